import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createEngine, defineJourney, FakeClock, readConversions, type Engine } from '../../engine/index.js';
import { eventually, testRedis } from '../support/redis.js';

/** Three days to order after adding to the cart; closing the account ends it too. */
const cart = defineJourney({
  id: 'cart',
  version: 1,
  trigger: { event: 'Product Added' },
  events: { 'Order Completed': z.object({ revenue: z.number().optional() }) },
  goal: { event: 'Order Completed', exit: true },
  exitOn: ['Account Closed'],
  machine: (j) =>
    j.createMachine({
      initial: 'waiting',
      states: {
        waiting: { tags: 'decision', after: { '3d': 'lapsed' } },
        lapsed: { tags: 'decision', type: 'final' },
      },
    }),
});

const MINUTE = 60_000;

describe('an event delivered late, from before the customer entered the journey', () => {
  let ctx: ReturnType<typeof testRedis>;
  let engine: Engine;
  const clock = new FakeClock(Date.parse('2026-11-23T10:00:00Z'));

  beforeEach(() => {
    ctx = testRedis();
    engine = createEngine({
      redis: ctx.redis,
      prefix: ctx.prefix,
      journeys: [cart],
      messages: { has: () => true },
      clock,
    });
    engine.startWorkers({ deliveries: false });
  });

  afterEach(async () => {
    await engine.close();
    await ctx.cleanup();
  });

  const finished = (userId: string) =>
    eventually(async () => {
      const instance = (await engine.customer(userId)).instances[0];
      return instance?.status === 'done' ? instance : undefined;
    });

  it('neither converts nor ends the instance; the same events after the entry do', async () => {
    const now = clock.now();
    for (const userId of ['ada', 'bo']) await engine.track({ userId, event: 'Product Added' });
    // Ada's earlier order (and Bo's account closed, then opened again) reach the engine after the
    // cart event, as a mobile SDK's batch sent late does.
    await engine.track({
      userId: 'ada',
      event: 'Order Completed',
      properties: { revenue: 20 },
      timestamp: now - 5 * MINUTE,
    });
    await engine.track({ userId: 'bo', event: 'Account Closed', timestamp: now - 60 * MINUTE });
    await engine.track({ userId: 'ada', event: 'Account Closed', timestamp: now + MINUTE });
    await engine.track({
      userId: 'bo',
      event: 'Order Completed',
      properties: { revenue: 30 },
      timestamp: now + MINUTE,
    });

    const ada = await finished('ada');
    expect(ada).toMatchObject({ exitReason: 'exit:Account Closed' });
    expect(ada.convertedAt).toBeUndefined();
    expect(await finished('bo')).toMatchObject({ exitReason: 'goal', convertedAt: now });
  });

  it('does not let a caller whose clock runs fast hide what follows, nor date a conversion ahead of the engine', async () => {
    const now = clock.now();
    // The add comes from a device an hour ahead; the order, a minute later, from the shop.
    await engine.track({ userId: 'cy', event: 'Product Added', timestamp: now + 60 * MINUTE });
    await engine.track({
      userId: 'cy',
      event: 'Order Completed',
      properties: { revenue: 12 },
      timestamp: now + MINUTE,
    });
    const cy = await finished('cy');
    expect(cy).toMatchObject({ exitReason: 'goal', convertedAt: now, triggeredAt: now });
    // Its conversion is logged when it was applied, not a minute ahead: a time in the future would
    // keep it out of every report period that has passed.
    const logged = await readConversions(ctx.redis, ctx.prefix, 'cart', 0, now + 120 * MINUTE);
    expect(logged).toMatchObject([{ customerId: 'cy', at: now, revenue: 12 }]);
  });
});

/** Entered through the API; an order ends it. */
const welcome = defineJourney({
  id: 'welcome',
  version: 1,
  trigger: { api: z.object({}).loose() },
  goal: { event: 'Order Completed', exit: true },
  machine: (j) =>
    j.createMachine({
      initial: 'waiting',
      states: {
        waiting: { tags: 'decision', after: { '3d': 'lapsed' } },
        lapsed: { tags: 'decision', type: 'final' },
      },
    }),
});

describe('an API entry dated ahead of the server that took it, applied after a backlog', () => {
  let ctx: ReturnType<typeof testRedis>;
  let engine: Engine;
  const clock = new FakeClock(Date.parse('2026-11-23T10:00:00Z'));

  beforeEach(() => {
    ctx = testRedis();
    engine = createEngine({
      redis: ctx.redis,
      prefix: ctx.prefix,
      journeys: [welcome],
      messages: { has: () => true },
      clock,
    });
  });

  afterEach(async () => {
    await engine.close();
    await ctx.cleanup();
  });

  it('takes the events that came after it was received, though dated before its own timestamp', async () => {
    const received = clock.now();
    // The caller's clock runs five minutes ahead; the order comes a minute later, dated by ours.
    await engine.trigger('welcome', { userId: 'cy', timestamp: received + 5 * MINUTE });
    clock.advance(MINUTE);
    await engine.track({ userId: 'cy', event: 'Order Completed' });
    // The workers were behind: both are applied ten minutes later.
    clock.advance(10 * MINUTE);
    engine.startWorkers({ deliveries: false });
    const cy = await eventually(async () => {
      const instance = (await engine.customer('cy')).instances[0];
      return instance?.status === 'done' ? instance : undefined;
    });
    expect(cy).toMatchObject({ exitReason: 'goal', convertedAt: clock.now() });
  });
});
