import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChannelAdapter } from '../../engine/channels/channel-adapter.js';
import { createEngine, type Engine } from '../../engine/index.js';
import { oneSendJourney } from '../support/channel-journeys.js';
import { testDelivery } from '../support/delivery.js';
import { eventually, testRedis } from '../support/redis.js';

const pushElseEmail = oneSendJourney({
  id: 'push-else-email',
  event: 'Hello',
  message: 'welcome',
  channels: ['push', 'email'],
});
const pushOnly = oneSendJourney({ id: 'push-only', event: 'Ping', message: 'welcome', channels: ['push'] });

/** FCM as it answers for a token the app's uninstall left behind. */
const deadTokens: ChannelAdapter & { calls: number } = {
  channel: 'push',
  provider: 'fcm',
  idempotent: false,
  calls: 0,
  async send() {
    deadTokens.calls += 1;
    return {
      status: 'failed',
      reason: 'FCM answered HTTP 404 UNREGISTERED: the push token is no longer registered',
      addressUnusable: true,
      addressGone: true,
    };
  },
};

describe('a send whose provider says the address cannot be reached', () => {
  let ctx: ReturnType<typeof testRedis>;
  let engine: Engine;
  let outbox: ReturnType<typeof testDelivery>;

  beforeAll(() => {
    ctx = testRedis();
    outbox = testDelivery(ctx.redis, ctx.prefix, [pushElseEmail, pushOnly]);
    engine = createEngine({
      redis: ctx.redis,
      prefix: ctx.prefix,
      journeys: [pushElseEmail, pushOnly],
      messages: outbox.messages,
      delivery: { ...outbox.delivery, adapters: { ...outbox.delivery.adapters, push: deadTokens } },
    });
    engine.startWorkers();
  });

  afterAll(async () => {
    await engine.close();
    outbox.cleanup();
    await ctx.cleanup();
  });

  const settled = (userId: string) =>
    eventually(
      async () => {
        const { messages } = await engine.customer(userId);
        return messages.some((m) => m.status === 'sent' || m.status === 'failed') ? messages : undefined;
      },
      20_000,
      `${userId}'s send to end`,
    );

  it('is handed to the next channel, as when the customer has no address there', async () => {
    await engine.identify({ userId: 'hal', traits: { email: 'hal@example.com', pushToken: 'gone' } });
    await engine.track({ userId: 'hal', event: 'Hello' });
    const messages = await settled('hal');
    expect(messages.map((m) => [m.channel, m.status, m.to ?? null])).toEqual([
      ['email', 'sent', null],
      ['push', 'rerouted', 'email'],
    ]);
    expect(messages[1]).toMatchObject({ reason: expect.stringContaining('UNREGISTERED') });
  });

  it('fails, once, when no channel is left', async () => {
    const before = deadTokens.calls;
    await engine.identify({ userId: 'ida', traits: { pushToken: 'gone-too' } });
    await engine.track({ userId: 'ida', event: 'Ping' });
    const messages = await settled('ida');
    expect(messages.map((m) => [m.channel, m.status])).toEqual([['push', 'failed']]);
    expect(messages[0]).toMatchObject({
      provider: 'fcm',
      reason: expect.stringMatching(/^FCM answered HTTP 404 UNREGISTERED.*no further channel in \[push\]/),
    });
    expect(deadTokens.calls - before).toBe(1);
  });

  it('suppresses a token gone for good, so later pushes to it go to the next channel without a request', async () => {
    expect(await engine.suppressions.check({ kind: 'push', value: 'gone' })).toEqual([
      {
        reason: 'hard-bounce',
        at: expect.any(Number),
        source: expect.stringMatching(/^fcm: FCM answered HTTP 404 UNREGISTERED/),
      },
    ]);
    const before = deadTokens.calls;
    // Another customer's app left the same token behind (spaces around it do not count).
    await engine.identify({ userId: 'ivy', traits: { email: 'ivy@example.com', pushToken: ' gone ' } });
    await engine.track({ userId: 'ivy', event: 'Hello' });
    const messages = await settled('ivy');
    expect(messages.map((m) => [m.channel, m.status])).toEqual([
      ['email', 'sent'],
      ['push', 'rerouted'],
    ]);
    expect(messages[1]).toMatchObject({
      reason: expect.stringMatching(/^the push token is suppressed \(hard-bounce at /),
    });
    expect(deadTokens.calls).toBe(before);
  });
});
