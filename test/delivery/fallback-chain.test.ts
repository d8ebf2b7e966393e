import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEngine, readInAppInbox, type Engine } from '../../engine/index.js';
import { oneSendJourney } from '../support/channel-journeys.js';
import { testDelivery } from '../support/delivery.js';
import { eventually, testRedis } from '../support/redis.js';

const everywhere = oneSendJourney({
  id: 'everywhere',
  event: 'Hello',
  message: 'welcome',
  channels: ['email', 'push', 'in-app'],
});

describe('a send that falls back along its channels', () => {
  let ctx: ReturnType<typeof testRedis>;
  let engine: Engine;
  let outbox: ReturnType<typeof testDelivery>;

  beforeAll(() => {
    ctx = testRedis();
    outbox = testDelivery(ctx.redis, ctx.prefix, [everywhere]);
    engine = createEngine({
      redis: ctx.redis,
      prefix: ctx.prefix,
      journeys: [everywhere],
      messages: outbox.messages,
      delivery: outbox.delivery,
    });
    engine.startWorkers();
  });

  afterAll(async () => {
    await engine.close();
    outbox.cleanup();
    await ctx.cleanup();
  });

  it('is handed on more than once: no email address, no push token, so in-app carries it', async () => {
    await engine.identify({ userId: 'gus', traits: { firstName: 'Gus' } });
    await engine.track({ userId: 'gus', event: 'Hello' });
    const messages = await eventually(
      async () => {
        const { messages } = await engine.customer('gus');
        return messages.some((m) => m.status === 'sent') ? messages : undefined;
      },
      20_000,
      'the in-app send',
    );
    expect(messages.map((m) => [m.channel, m.status, m.to ?? null])).toEqual([
      ['in-app', 'sent', null],
      ['push', 'rerouted', 'in-app'],
      ['email', 'rerouted', 'push'],
    ]);
    expect(await readInAppInbox(ctx.redis, ctx.prefix, 'gus')).toHaveLength(1);
  });
});
