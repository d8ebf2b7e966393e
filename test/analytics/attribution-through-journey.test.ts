import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { buildJourneyReport, createEngine, FakeClock, type Engine } from '../../engine/index.js';
import { threeTouches } from '../fixtures/journeys/three-touches.js';
import { testDelivery } from '../support/delivery.js';
import { eventually, testRedis } from '../support/redis.js';

const DAY = 86_400_000;

/**
 * Known events through a real journey and delivery, then each attribution model against numbers
 * worked out by hand: emails at day 0 (welcome), day 7 (nudge) and day 14 (spotlight), an order
 * of 100 on day 14, a 30-day window and the default 7-day half-life.
 */
describe('attribution of a conversion driven through a journey', () => {
  let ctx: ReturnType<typeof testRedis>;
  let engine: Engine;
  let outbox: ReturnType<typeof testDelivery>;
  const clock = new FakeClock(Date.now());
  const start = clock.now();

  beforeEach(() => {
    ctx = testRedis();
    outbox = testDelivery(ctx.redis, ctx.prefix, [threeTouches]);
    engine = createEngine({
      redis: ctx.redis,
      prefix: ctx.prefix,
      journeys: [threeTouches],
      messages: outbox.messages,
      delivery: outbox.delivery,
      clock,
    });
    engine.startWorkers();
  });
  afterEach(async () => {
    await engine.close();
    outbox.cleanup();
    await ctx.cleanup();
  });

  const sent = async (count: number) =>
    eventually(
      async () => (await engine.customer('ada')).messages.filter((m) => m.status === 'sent').length >= count,
    );

  it('credits the three emails as each model says', async () => {
    await engine.identify({ userId: 'ada', traits: { firstName: 'Ada', email: 'ada@example.com' } });
    await engine.track({ userId: 'ada', event: 'Joined' });
    await sent(1);
    clock.advance(7 * DAY);
    await engine.track({ userId: 'ada', event: 'Next' });
    await sent(2);
    clock.advance(7 * DAY);
    await engine.track({ userId: 'ada', event: 'Next' });
    await sent(3);
    await engine.track({ userId: 'ada', event: 'Order Completed', properties: { revenue: 100 } });
    await eventually(async () => (await engine.customer('ada')).instances[0]?.convertedAt !== undefined);

    const report = await buildJourneyReport({
      redis: ctx.redis,
      prefix: ctx.prefix,
      journey: threeTouches,
      from: start - DAY,
      to: clock.now() + DAY,
      now: clock.now(),
    });
    expect(report.periodConversions).toEqual({ count: 1, revenue: 100 });
    const byMessage = (model: keyof typeof report.attribution.models) => {
      const rows = report.attribution.models[model].byMessage;
      return Object.fromEntries(
        Object.entries(rows).map(([m, t]) => [m, [+t.conversions.toFixed(6), +t.revenue.toFixed(4)]]),
      );
    };
    // First and last touch: all of it to the first (welcome) or the last (spotlight) email.
    expect(byMessage('first-touch')).toEqual({ welcome: [1, 100] });
    expect(byMessage('last-touch')).toEqual({ 'product-spotlight': [1, 100] });
    // Linear: a third each, 33.3333 of the revenue.
    expect(byMessage('linear')).toEqual({
      welcome: [0.333333, 33.3333],
      nudge: [0.333333, 33.3333],
      'product-spotlight': [0.333333, 33.3333],
    });
    // Time decay, half-life 7 days: ages 14, 7, 0 days weigh 1/4, 1/2, 1, i.e. 1/7, 2/7, 4/7.
    expect(byMessage('time-decay')).toEqual({
      welcome: [0.142857, 14.2857],
      nudge: [0.285714, 28.5714],
      'product-spotlight': [0.571429, 57.1429],
    });
    // Position-based: 40% first, 40% last, the middle 20%.
    expect(byMessage('position-based')).toEqual({
      welcome: [0.4, 40],
      nudge: [0.2, 20],
      'product-spotlight': [0.4, 40],
    });
    const email = report.attribution.models.linear.byChannel.email!;
    expect(email.conversions).toBeCloseTo(1, 9);
    expect(email.revenue).toBeCloseTo(100, 9);
  }, 30_000);
});
