import { raise } from 'xstate';
import { afterAll, expect, it } from 'vitest';
import { createEngine, defineJourney, FakeClock } from '../../engine/index.js';
import { EngineOnFakeClock } from '../support/engine-on-fake-clock.js';
import { testRedis } from '../support/redis.js';

/** A reminder a day after sign-up and another three days after, both of the event `Remind`. */
const twoReminders = defineJourney({
  id: 'two-reminders',
  version: 1,
  trigger: { event: 'Signed Up' },
  machine: (j) =>
    j.createMachine({
      initial: 'waiting',
      states: {
        waiting: {
          tags: 'awareness',
          entry: [
            raise({ type: 'Remind' } as never, { delay: '1d' }),
            raise({ type: 'Remind' } as never, { delay: '3d' }),
          ],
          on: { Remind: 'reminded' } as never,
        },
        reminded: { tags: 'consideration', on: { Remind: 'remindedTwice' } as never },
        remindedTwice: { tags: 'consideration', type: 'final' },
      },
    }),
});

const ctx = testRedis();
const clock = new FakeClock(Date.parse('2026-03-02T09:00:00Z'));
const engine = createEngine({
  redis: ctx.redis,
  prefix: ctx.prefix,
  journeys: [twoReminders],
  messages: { has: () => true },
  clock,
});

afterAll(async () => {
  await engine.close();
  await ctx.cleanup();
});

it('fires both of two delayed raises of one event through the durable timers, each when due', async () => {
  const driver = new EngineOnFakeClock(
    engine,
    clock,
    ctx.redis,
    engine.startWorkers({ deliveries: false }),
    () => true,
  );
  await engine.track({ userId: 'ada', event: 'Signed Up' });
  await driver.idle(['ada']);
  expect((await driver.timers()).map((t) => t.dueAt - clock.now())).toEqual([86_400_000, 3 * 86_400_000]);
  await driver.advance(86_400_000, ['ada']);
  expect((await engine.customer('ada')).instances[0]).toMatchObject({ state: 'reminded' });
  await driver.advance(2 * 86_400_000, ['ada']);
  expect((await engine.customer('ada')).instances[0]).toMatchObject({
    status: 'done',
    exitReason: 'remindedTwice',
  });
});
