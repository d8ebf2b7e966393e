import { afterAll, expect, it } from 'vitest';
import { createEngine, defineJourney, FakeClock, type Engine } from '../../engine/index.js';
import { EngineOnFakeClock } from '../support/engine-on-fake-clock.js';
import { testRedis } from '../support/redis.js';

/** Version 1 as first deployed, waiting a day, and as edited afterwards to wait two. */
function versionOne(wait: '1d' | '2d') {
  return defineJourney({
    id: 'onboard',
    version: 1,
    trigger: { event: 'Signed Up' },
    machine: (j) =>
      j.createMachine({
        initial: 'welcomed',
        states: {
          welcomed: { tags: 'awareness', after: { [wait]: 'nudged' } },
          nudged: { tags: 'consideration', entry: j.send('nudge', ['email']), type: 'final' },
        },
      }),
  });
}

const ctx = testRedis();
const clock = new FakeClock(Date.parse('2026-03-02T09:00:00Z'));
const engines: Engine[] = [];
const engineWith = (wait: '1d' | '2d') => {
  const engine = createEngine({
    redis: ctx.redis,
    prefix: ctx.prefix,
    journeys: [versionOne(wait)],
    messages: { has: () => true },
    clock,
  });
  engines.push(engine);
  return engine;
};

afterAll(async () => {
  for (const engine of engines) await engine.close();
  await ctx.cleanup();
});

it('fails, with the reason and the fix, a customer whose wait was changed in place while they waited, instead of leaving them in it for ever', async () => {
  const before = engineWith('1d');
  const driver = new EngineOnFakeClock(
    before,
    clock,
    ctx.redis,
    before.startWorkers({ deliveries: false }),
    () => true,
  );
  await before.track({ userId: 'ada', event: 'Signed Up' });
  await driver.idle(['ada']);
  await before.close();

  const edited = engineWith('2d');
  driver.deployed(edited, edited.startWorkers({ deliveries: false }));
  await driver.advance(86_400_000, ['ada']);
  expect((await edited.customer('ada')).instances[0]).toMatchObject({
    status: 'failed',
    state: 'welcomed',
    error: expect.stringMatching(
      /version 1 of journey onboard has no wait "1d" in state "welcomed", which instance onboard\.1 was waiting on.*To fix: put the wait back in version 1/s,
    ),
  });
  expect(await driver.timers()).toEqual([]);
});
