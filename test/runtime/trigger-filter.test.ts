import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  createEngine,
  createJourneyHarness,
  defineJourney,
  silentLogger,
  type Engine,
  type Logger,
} from '../../engine/index.js';
import { eventually, testRedis } from '../support/redis.js';

/** Entered by large orders only: the trigger's schema is its filter. */
const bigOrder = defineJourney({
  id: 'big-order',
  version: 1,
  trigger: { event: 'Order Completed', properties: z.object({ total: z.number().min(100) }) },
  machine: (j) =>
    j.createMachine({
      initial: 'thanked',
      states: {
        thanked: { tags: 'loyalty', after: { '7d': 'done' } },
        done: { tags: 'loyalty', type: 'final' },
      },
    }),
});

describe("a track event the trigger's schema does not take", () => {
  let ctx: ReturnType<typeof testRedis>;
  let engine: Engine;
  let logged: Array<{ level: 'info' | 'warn'; msg: string }>;

  beforeEach(() => {
    ctx = testRedis();
    logged = [];
    const logger: Logger = {
      ...silentLogger,
      info: (_obj, msg) => void logged.push({ level: 'info', msg: msg ?? '' }),
      warn: (_obj, msg) => void logged.push({ level: 'warn', msg: msg ?? '' }),
    };
    engine = createEngine({
      redis: ctx.redis,
      prefix: ctx.prefix,
      journeys: [bigOrder],
      messages: { has: () => true },
      logger,
    });
    engine.startWorkers({ deliveries: false });
  });

  afterEach(async () => {
    await engine.close();
    await ctx.cleanup();
  });

  it('keeps the customer out, and is not listed among their unapplied events', async () => {
    await engine.track({ userId: 'ada', event: 'Order Completed', properties: { total: 40 } });
    await engine.track({ userId: 'ada', event: 'Order Completed', properties: { total: 140 } });
    const ada = await eventually(async () => {
      const customer = await engine.customer('ada');
      return customer.instances.length > 0 ? customer : undefined;
    });
    expect(ada.instances.map((i) => i.journeyId)).toEqual(['big-order']);
    expect(ada.deadLetters).toEqual([]);
  });

  it('is noted as not entered, with the reason, in the harness', () => {
    const h = createJourneyHarness(bigOrder);
    h.track('bo', 'Order Completed', { total: 40 });
    expect(h.instance('bo')).toBeUndefined();
    expect(h.notes('bo')).toEqual([
      expect.objectContaining({
        kind: 'not-entered',
        journeyId: 'big-order',
        reason: expect.stringContaining('properties.total'),
      }),
    ]);
  });

  it('warns, where a filter at work is only noted, when a property is of another type or missing', async () => {
    // A sender's bug (the total sent as a string, or not at all), not a small order.
    await engine.track({ userId: 'cy', event: 'Order Completed', properties: { total: '140' } });
    await engine.track({ userId: 'cy', event: 'Order Completed', properties: {} });
    await engine.track({ userId: 'cy', event: 'Order Completed', properties: { total: 40 } });
    const notEntered = await eventually(async () => {
      const lines = logged.filter((line) => line.msg.startsWith('customer not entered'));
      return lines.length === 3 ? lines : undefined;
    });
    expect(notEntered.map((line) => line.level)).toEqual(['warn', 'warn', 'info']);
    const h = createJourneyHarness(bigOrder);
    h.track('dee', 'Order Completed', { total: '140' });
    expect(h.notes('dee')).toEqual([expect.objectContaining({ kind: 'not-entered', mistyped: true })]);
  });
});
