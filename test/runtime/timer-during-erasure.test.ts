import type { Job } from 'bullmq';
import { describe, expect, it } from 'vitest';
import {
  CommandExecutor,
  drainCustomer,
  silentLogger,
  systemClock,
  type DrainDependencies,
} from '../../engine/index.js';
import { keysSharingTag } from '../../engine/redis/scan-keys.js';
import { timerEvent, type TimerJobData } from '../../engine/runtime/timer-job.js';
import { engineEachTest } from '../support/engine.js';

describe('a timer that fires while its customer is being erased', () => {
  const h = engineEachTest();

  it('leaves nothing under the erased customer, also when it fired after the erasure listed their keys', async () => {
    const { engine } = h;
    const deps: DrainDependencies = {
      store: engine.store,
      catalog: engine.catalog,
      executor: new CommandExecutor({
        queues: engine.queues,
        jobIndex: engine.jobIndex,
        timerWheel: engine.timerWheel,
        clock: systemClock,
        timeScale: 1,
      }),
      clock: systemClock,
      logger: silentLogger,
    };
    await engine.identify({ userId: 'ada', traits: { email: 'ada@example.com' } });
    await engine.track({ userId: 'ada', event: 'Signed Up' });
    await expect(drainCustomer(deps, 'ada', 'drain-1')).resolves.toBe('drained');
    const instance = (await engine.customer('ada')).instances[0]!;
    const [jobId] = Object.values(instance.timers) as [string];
    // The timer job as it fires (it may wait in the timer wheel until it falls due).
    const job = {
      id: jobId,
      timestamp: Date.now(),
      opts: {},
      data: { v: 2 },
    } as unknown as Job<TimerJobData>;
    const event = timerEvent(job)!;

    // The timer's job fires while the erasure holds the customer, after it listed the customer's
    // keys (an inbox that did not exist then) and before it deletes them.
    const redis = engine.store.redis;
    const unlink = redis.unlink.bind(redis) as (...keys: string[]) => Promise<number>;
    let fired: unknown;
    (redis as unknown as { unlink: (...keys: string[]) => Promise<number> }).unlink = async (...keys) => {
      if (fired === undefined) fired = await drainCustomer(deps, 'ada', jobId, event);
      return unlink(...keys);
    };
    try {
      await engine.erase('ada');
    } finally {
      (redis as unknown as { unlink: typeof unlink }).unlink = unlink;
    }
    // The erasure held the customer's lease: the timer left its event for the holder to apply.
    expect(fired).toBe('busy');

    // The stranded-inbox sweep's drain job, or the next event's, then finds it.
    await drainCustomer(deps, 'ada', 'drain-2');
    expect(await keysSharingTag(redis, engine.store.keys('ada').state)).toEqual([]);
  });
});
