import { afterEach, describe, expect, it } from 'vitest';
import { timerJobId, type Engine } from '../../engine/index.js';
import { SWEEP_SCHEDULER } from '../../engine/runtime/journey-worker.js';
import { onboardingEngine } from '../support/engine.js';
import { eventually, testRedis } from '../support/redis.js';

describe('a long wait, while processes are given different sweep intervals', () => {
  const cleanups: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0)) await cleanup();
  });

  it('is promoted by the sweep before it falls due, however far apart another process scheduled the sweeps', async () => {
    const ctx = testRedis();
    // This process sweeps every 200 ms, so it promotes what falls due within 600 ms.
    const engine: Engine = onboardingEngine(ctx, undefined, { sweepIntervalMs: 200 });
    cleanups.push(async () => {
      await engine.close();
      await ctx.cleanup();
    });
    engine.startWorkers({ deliveries: false });
    const journeys = engine.queues.journeys;
    await eventually(async () => (await journeys.getJobScheduler(SWEEP_SCHEDULER))?.every === 200);
    // A timer due in 30 s waits in the wheel (the customer has no state: were it to fire, it is dropped).
    const jobId = timerJobId('ada', 'onboarding.1', 1, 0);
    await engine.timerWheel.add([{ jobId, delayMs: 30_000 }]);
    // Another process, given SWEEP_INTERVAL_MS=60000 (as while it is being raised), starts after
    // this one: the sweeps now run a minute apart, and one runs at once. Promoted only by the sweep
    // after the due time, the timer would fire up to a minute late.
    await journeys.upsertJobScheduler(SWEEP_SCHEDULER, { every: 60_000 }, { name: 'sweep', data: {} });
    const job = await eventually(() => journeys.getJob(jobId), 5_000, 'the timer promoted');
    expect(await job.getState()).toBe('delayed');
    expect(job.opts.delay).toBeGreaterThan(25_000);
    expect(await engine.timerWheel.waiting()).toBe(0);
  });
});
