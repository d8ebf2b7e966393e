import { describe, expect, it } from 'vitest';
import { keysSharingTag } from '../../engine/redis/scan-keys.js';
import { engineEachTest } from '../support/engine.js';
import { eventually } from '../support/redis.js';

describe('a timer job that outlived its customer’s erasure', () => {
  const h = engineEachTest({ workers: true, delivery: true });

  it('is dropped without writing anything back under the erased customer’s id', async () => {
    const { engine } = h;
    await engine.identify({ userId: 'ada', traits: { email: 'ada@example.com' } });
    await engine.track({ userId: 'ada', event: 'Signed Up' });
    const parked = await eventually(async () => {
      const instance = (await engine.customer('ada')).instances[0];
      return Object.keys(instance?.timers ?? {}).length === 1 && instance;
    });
    const [jobId] = Object.values(parked.timers) as [string];

    await engine.erase('ada');
    // The job was running when the erasure listed the customer's jobs, so it was not among them:
    // it fires now, with no customer left to apply it to.
    const job = await engine.queues.journeys.add('timer', { v: 2 }, { jobId });
    // Timer jobs are removed once completed; a failed one would be kept.
    await eventually(async () => (await job.getState()) === 'unknown', 10_000, 'the timer job to complete');
    expect(await keysSharingTag(h.ctx.redis, engine.store.keys('ada').state)).toEqual([]);
    expect(await engine.customer('ada')).toMatchObject({ instances: [], pendingEvents: 0 });
  });
});
