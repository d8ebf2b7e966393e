import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createEngine, FakeClock, type Engine } from '../../engine/index.js';
import { morningReminder } from '../../docs/examples/morning-journey.js';
import { EngineOnFakeClock, injectFaults } from '../support/engine-on-fake-clock.js';
import { testRedis } from '../support/redis.js';

const iso = (ms: number) => new Date(ms).toISOString();

describe('a wait until a local time, durable, when the customer’s time zone changes', () => {
  let ctx: ReturnType<typeof testRedis>;
  let engine: Engine;
  let driver: EngineOnFakeClock;
  /** Whether the next commit fails before it reaches Redis, as a worker that died after its commands. */
  let failNextCommit = false;

  const start = (at: string) => {
    const clock = new FakeClock(Date.parse(at));
    engine = createEngine({
      redis: ctx.redis,
      prefix: ctx.prefix,
      journeys: [morningReminder],
      messages: { has: () => true },
      clock,
    });
    injectFaults(engine, (call) => {
      if (call !== 'commit' || !failNextCommit) return undefined;
      failNextCommit = false;
      return 'before';
    });
    driver = new EngineOnFakeClock(
      engine,
      clock,
      ctx.redis,
      engine.startWorkers({ deliveries: false }),
      () => true,
    );
    return clock;
  };

  /** The customer's sends and, at each, the journey time they were made. */
  const sent = async () => (await driver.sends()).map((s) => [s.message, iso(s.at)]);

  beforeEach(() => {
    ctx = testRedis();
    failNextCommit = false;
  });

  afterEach(async () => {
    await engine.close();
    await ctx.cleanup();
  });

  it('moves the timer to 10:00 in the new zone, where it fires once, the old one gone', async () => {
    const clock = start('2026-06-01T18:00:00Z'); // 20:00 in Berlin
    await engine.identify({ userId: 'ada', traits: { timezone: 'Europe/Berlin' } });
    await engine.track({ userId: 'ada', event: 'Product Added', properties: { name: 'Sencha' } });
    await driver.idle(['ada']);
    const [berlin] = await driver.timers();
    expect(iso(berlin!.dueAt)).toBe('2026-06-02T08:00:00.000Z');

    await driver.advance(2 * 3_600_000, ['ada']);
    await engine.identify({ userId: 'ada', traits: { timezone: 'America/New_York' } });
    await driver.idle(['ada']);
    const moved = await driver.timers();
    expect(moved.map((t) => iso(t.dueAt))).toEqual(['2026-06-02T14:00:00.000Z']);
    expect(moved[0]!.jobId).not.toBe(berlin!.jobId);
    const [instance] = (await engine.customer('ada')).instances;
    expect(Object.values(instance!.timers)).toEqual([moved[0]!.jobId]);

    await driver.advance(Date.parse('2026-06-02T13:59:00Z') - clock.now(), ['ada']);
    expect(await sent()).toEqual([]);
    await driver.advance(3 * 86_400_000, ['ada']);
    expect(await sent()).toEqual([['cart-reminder', '2026-06-02T14:00:00.000Z']]);
    expect((await engine.customer('ada')).instances[0]).toMatchObject({
      status: 'done',
      exitReason: 'reminded',
    });
    expect(driver.stale).toEqual([]);
  });

  it('does nothing on an identify that leaves the customer’s clock as it was', async () => {
    start('2026-06-01T18:00:00Z');
    await engine.identify({ userId: 'bo', traits: { timezone: 'Europe/Berlin' } });
    await engine.track({ userId: 'bo', event: 'Product Added', properties: { name: 'Sencha' } });
    await driver.idle(['bo']);
    const before = await driver.timers();
    const [instance] = (await engine.customer('bo')).instances;
    await engine.identify({
      userId: 'bo',
      traits: { email: 'bo@example.com', deviceTimezone: 'Asia/Tokyo' },
    });
    await driver.idle(['bo']);
    expect(await driver.timers()).toEqual(before);
    expect((await engine.customer('bo')).instances[0]).toEqual(instance);
  });

  it('moves it once when the worker dies after moving the timer and before its commit', async () => {
    start('2026-06-01T18:00:00Z');
    await engine.identify({ userId: 'cy', traits: { timezone: 'Europe/Berlin' } });
    await engine.track({ userId: 'cy', event: 'Product Added', properties: { name: 'Sencha' } });
    await driver.idle(['cy']);
    failNextCommit = true;
    await engine.identify({ userId: 'cy', traits: { timezone: 'America/New_York' } });
    await driver.idle(['cy']);
    expect(failNextCommit).toBe(false);
    const timers = await driver.timers();
    expect(timers.map((t) => iso(t.dueAt))).toEqual(['2026-06-02T14:00:00.000Z']);
    const [instance] = (await engine.customer('cy')).instances;
    expect(Object.values(instance!.timers)).toEqual([timers[0]!.jobId]);
    await driver.advance(3 * 86_400_000, ['cy']);
    expect(await sent()).toEqual([['cart-reminder', '2026-06-02T14:00:00.000Z']]);
    expect(driver.stale).toEqual([]);
  });

  it('fires at once, and once, a wait whose new local time has passed, across a commit that failed', async () => {
    start('2026-06-02T00:00:00Z'); // 20:00 in New York: 10:00 there is 14:00Z
    await engine.identify({ userId: 'di', traits: { timezone: 'America/New_York' } });
    await engine.track({ userId: 'di', event: 'Product Added', properties: { name: 'Oolong' } });
    await driver.idle(['di']);
    await driver.advance(10 * 3_600_000, ['di']); // 12:00 in Berlin
    failNextCommit = true;
    await engine.identify({ userId: 'di', traits: { timezone: 'Europe/Berlin' } });
    await driver.idle(['di']);
    expect(failNextCommit).toBe(false);
    expect(await sent()).toEqual([['cart-reminder', '2026-06-02T10:00:00.000Z']]);
    expect((await engine.customer('di')).instances[0]).toMatchObject({
      status: 'done',
      exitReason: 'reminded',
    });
    await driver.advance(3 * 86_400_000, ['di']);
    expect(await sent()).toHaveLength(1);
    expect(await driver.timers()).toEqual([]);
  });
});
