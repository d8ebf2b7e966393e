import { afterEach, describe, expect, it } from 'vitest';
import {
  createEngine,
  createPushAdapter,
  createSmsAdapter,
  createWebhookAdapter,
  generateWebhookSecret,
  loadTemplates,
  MessageRenderer,
  type ChannelAdapter,
  type Engine,
} from '../../engine/index.js';
import { startHttpServer, type Reply } from '../channels/support.js';
import { pingJourney } from '../support/channel-journeys.js';
import { eventually, testRedis } from '../support/redis.js';

type HttpChannel = 'sms' | 'push' | 'webhook';

const ok: Record<HttpChannel, Reply> = {
  sms: { status: 201, body: JSON.stringify({ sid: 'SM1', status: 'queued' }) },
  push: { status: 200, body: JSON.stringify({ name: 'projects/chorus/messages/1' }) },
  webhook: { status: 204 },
};

// SMS marketing goes out only with the customer's explicit grant.
const traits = {
  firstName: 'Ada',
  phone: '+15550100',
  pushToken: 'device-1',
  consent: { sms: { marketing: true } },
};

/** Each channel's provider, pointed at a local HTTP server. */
function adapterFor(channel: HttpChannel, url: string): ChannelAdapter {
  if (channel === 'sms')
    return createSmsAdapter({ baseUrl: url, accountSid: 'AC1', authToken: 't', from: '+15550199' });
  if (channel === 'push')
    return createPushAdapter({ baseUrl: url, projectId: 'chorus', accessToken: 'token' });
  return createWebhookAdapter({ secret: generateWebhookSecret(), allowPrivateTargets: true });
}

describe.each(['sms', 'push', 'webhook'] as const)(
  'the delivery worker on %s against a real HTTP provider',
  (channel) => {
    let ctx: ReturnType<typeof testRedis>;
    let engine: Engine;
    let server: Awaited<ReturnType<typeof startHttpServer>>;
    /** Traits of this test's customer beyond the shared ones. */
    let ownTraits: Record<string, unknown> = {};

    async function start(...replies: Reply[]) {
      ctx = testRedis();
      server = await startHttpServer(...replies);
      const journey = pingJourney(channel);
      const templates = loadTemplates('templates');
      engine = createEngine({
        redis: ctx.redis,
        prefix: ctx.prefix,
        journeys: [journey],
        messages: { has: (id) => templates.message(id) !== undefined },
        delivery: {
          renderer: new MessageRenderer(templates),
          // The webhook channel posts to the message's declared target: here, the local server.
          messages: {
            get: (id) => {
              const message = templates.message(id);
              return message && { ...message, webhook: { url: `${server.url}/hook` } };
            },
          },
          adapters: { [channel]: adapterFor(channel, server.url) },
          unsubscribe: { baseUrl: 'https://chorus.test', secret: 'test-secret-of-sixteen' },
          // Backoff of tens of milliseconds, so only a provider's Retry-After makes a test wait.
          retry: { baseMs: 20, maxMs: 100 },
        },
      });
      engine.startWorkers();
      await engine.identify({ userId: 'ada', traits: { ...traits, ...ownTraits } });
      await engine.track({ userId: 'ada', event: `Ping ${channel}` });
    }

    afterEach(async () => {
      ownTraits = {};
      await engine.close();
      await server.close();
      await ctx.cleanup();
    });

    async function settled() {
      return eventually(async () => {
        const { messages } = await engine.customer('ada');
        return messages.length > 0 ? messages : undefined;
      });
    }

    async function onlyJob() {
      const [job] = await engine.queues.deliveries[channel].getJobs(['completed', 'failed']);
      return job!;
    }

    it('retries 429 and 503 with backoff, honours Retry-After, and records one send', async () => {
      await start({ status: 429, headers: { 'retry-after': '1' } }, { status: 503 }, ok[channel]);
      const messages = await settled();
      expect(messages).toEqual([expect.objectContaining({ channel, status: 'sent' })]);
      await eventually(async () => (await engine.queues.deliveries[channel].getCompletedCount()) === 1);
      expect(server.requests).toHaveLength(3);
      const [first, second, third] = server.requests.map((r) => r.at) as [number, number, number];
      // Retry-After: 1 is a floor of one second; without it the backoff stays under 100 ms.
      expect(second - first).toBeGreaterThanOrEqual(950);
      expect(third - second).toBeLessThan(900);
      // Three runs of one job (BullMQ counts the run that completed), one message recorded.
      expect((await onlyJob()).attemptsMade).toBe(3);
      expect((await engine.customer('ada')).messages).toHaveLength(1);
    });

    it.runIf(channel === 'webhook')(
      "dates every attempt's payload when the send was asked for; only webhook-timestamp is the attempt's",
      async () => {
        // Standard Webhooks: the payload's timestamp is when the event occurred, the same however
        // often it is retried. It was each attempt's time, so one webhook-id came with several.
        const asked = Date.now();
        await start({ status: 503 }, { status: 503 }, ok[channel]);
        await settled();
        expect(server.requests).toHaveLength(3);
        const stamps = server.requests.map(
          (r) => (JSON.parse(r.body.toString()) as { timestamp: string }).timestamp,
        );
        expect(new Set(stamps).size).toBe(1);
        const stamp = Date.parse(stamps[0]!);
        expect(stamp).toBeGreaterThanOrEqual(asked);
        expect(stamp).toBeLessThanOrEqual(server.requests[0]!.at);
        expect(new Set(server.requests.map((r) => r.headers['webhook-id'])).size).toBe(1);
      },
    );

    it('records a permanent 4xx as failed, with the reason, and does not retry', async () => {
      await start({ status: 400, body: JSON.stringify({ message: 'invalid recipient' }) });
      const [entry] = await settled();
      expect(entry).toMatchObject({ channel, status: 'failed', reason: expect.stringContaining('HTTP 400') });
      await eventually(async () => (await engine.queues.deliveries[channel].getFailedCount()) === 1);
      const job = await onlyJob();
      expect(job.attemptsMade).toBe(1);
      expect(await engine.queues.deliveries[channel].getDelayedCount()).toBe(0);
      expect(server.requests).toHaveLength(1);
    });

    it.runIf(channel === 'push')(
      'fails a push that a long trait makes too big for FCM without a request, and does not retry',
      async () => {
        // The welcome push greets the customer by first name.
        ownTraits = { firstName: 'A'.repeat(5000) };
        await start(ok[channel]);
        const [entry] = await settled();
        expect(entry).toMatchObject({
          channel,
          status: 'failed',
          reason: expect.stringMatching(
            /^the push of message "welcome" is \d+ bytes .* over the 4096 FCM takes/,
          ),
        });
        await eventually(async () => (await engine.queues.deliveries[channel].getFailedCount()) === 1);
        expect((await onlyJob()).attemptsMade).toBe(1);
        expect(server.requests).toHaveLength(0);
      },
    );
  },
);
