import { afterEach, describe, expect, it } from 'vitest';
import {
  createEngine,
  createSmsAdapter,
  loadTemplates,
  MessageRenderer,
  type Engine,
} from '../../engine/index.js';
import { startHttpServer, type Reply } from '../channels/support.js';
import { pingJourney } from '../support/channel-journeys.js';
import { eventually, testRedis } from '../support/redis.js';

/** Twilio's answer to a text for a number that replied STOP to the sender. */
const repliedStop: Reply = {
  status: 400,
  body: JSON.stringify({ code: 21610, message: 'Attempt to send to unsubscribed recipient', status: 400 }),
};
const accepted: Reply = { status: 201, body: JSON.stringify({ sid: 'SM1', status: 'queued' }) };

// SMS marketing goes out only with the customer's explicit grant.
const traits = (phone: string) => ({ phone, consent: { sms: { marketing: true } } });

describe('a text Twilio refuses as the customer replied STOP (21610)', () => {
  let ctx: ReturnType<typeof testRedis>;
  let engine: Engine;
  let server: Awaited<ReturnType<typeof startHttpServer>>;

  afterEach(async () => {
    await engine.close();
    await server.close();
    await ctx.cleanup();
  });

  async function start(...replies: Reply[]) {
    ctx = testRedis();
    server = await startHttpServer(...replies);
    const templates = loadTemplates('templates');
    engine = createEngine({
      redis: ctx.redis,
      prefix: ctx.prefix,
      journeys: [pingJourney('sms')],
      messages: { has: (id) => templates.message(id) !== undefined },
      delivery: {
        renderer: new MessageRenderer(templates),
        messages: { get: (id) => templates.message(id) },
        adapters: {
          sms: createSmsAdapter({
            baseUrl: server.url,
            accountSid: 'AC1',
            authToken: 't',
            from: '+15550199',
          }),
        },
        unsubscribe: { baseUrl: 'https://chorus.test', secret: 'test-secret-of-sixteen' },
        retry: { baseMs: 20, maxMs: 100 },
      },
    });
    engine.startWorkers();
  }

  const textTo = async (userId: string, phone: string, count: number) => {
    await engine.identify({ userId, traits: traits(phone) });
    await engine.track({ userId, event: 'Ping sms' });
    return eventually(async () => {
      const { messages } = await engine.customer(userId);
      return messages.length === count && messages[0]!.status !== 'queued' ? messages[0] : undefined;
    });
  };

  it('suppresses the number as an unsubscribe, so the next marketing text to it stops before Twilio', async () => {
    await start(repliedStop, accepted);
    expect(await textTo('ada', '+15550100', 1)).toMatchObject({
      status: 'failed',
      reason: expect.stringContaining('21610'),
    });
    const [entry] = await engine.suppressions.check({ kind: 'phone', value: '+1 555 0100' });
    expect(entry).toEqual({
      reason: 'unsubscribe',
      at: expect.any(Number),
      source: expect.stringMatching(/^twilio: Twilio answered HTTP 400: 21610 Attempt to send/),
      // For 30 days: without Twilio's inbound webhook, the customer's START would never reach Chorus.
      until: entry!.at + 30 * 86_400_000,
    });
    // Another customer with the same number: no request.
    expect(await textTo('bea', '+1 (555) 0100', 1)).toMatchObject({
      status: 'skipped',
      reason: expect.stringMatching(/^the phone number is suppressed \(unsubscribe at /),
    });
    expect(server.requests).toHaveLength(1);
    // Their START lifts it (what POST /v1/sms/inbound/twilio does), and texts go out again.
    expect(await engine.suppressions.remove({ kind: 'phone', value: '+15550100' }, 'unsubscribe')).toBe(1);
    expect(await textTo('ada', '+15550100', 2)).toMatchObject({ status: 'sent' });
    expect(server.requests).toHaveLength(2);
  });
});
