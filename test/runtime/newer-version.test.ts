import type { Job } from 'bullmq';
import { describe, expect, it } from 'vitest';
import { DRAIN_JOB, NewerVersionError, type DeliveryJobData, type Engine } from '../../engine/index.js';

import { TIMER_JOB, timerEvent, type TimerJobData } from '../../engine/runtime/timer-job.js';
import { engineEachTest } from '../support/engine.js';
import { eventually } from '../support/redis.js';

/**
 * During a rolling upgrade an older worker meets what a newer one wrote. It must neither guess at
 * it nor throw it away: the job is put back for later without spending an attempt, for a newer
 * worker to take, however long the upgrade takes.
 */
describe('data written by a newer version of Chorus', () => {
  const h = engineEachTest({ delivery: true, workers: true });

  /** A job of `queue` that has run and was put back for later, its attempts unspent. */
  const putBack = (queue: Engine['queues']['journeys'], jobId?: string) =>
    eventually(async () => {
      const jobs = jobId ? [await queue.getJob(jobId)] : await queue.getJobs(['delayed']);
      for (const job of jobs)
        if (job && job.attemptsStarted > 0 && (await job.getState()) === 'delayed') return job;
      return undefined;
    });

  it('keeps an inbox holding a newer event, in order, for a newer worker: nothing applied, nothing dead-lettered', async () => {
    const keys = h.engine.store.keys('ada');
    const newer = { v: 2, kind: 'track', id: 'e-new', customerId: 'ada', name: 'Signed Up', timestamp: 1 };
    await h.ctx.redis.rpush(keys.inbox, JSON.stringify(newer));
    // A known event behind it, and the drain job that comes with it.
    await h.engine.track({ userId: 'ada', event: 'Signed Up', properties: { plan: 'pro' } });

    const job = await putBack(h.engine.queues.journeys);
    expect(job.attemptsMade).toBe(0);
    expect(job.failedReason).toBeFalsy();
    const customer = await h.engine.customer('ada');
    expect(customer.instances).toEqual([]);
    expect(customer.deadLetters).toEqual([]);
    expect(customer.pendingEvents).toBe(2);
  });

  it('does not step an instance of a newer shape', async () => {
    const keys = h.engine.store.keys('ada');
    await h.ctx.redis.hset(keys.state, 'i:onboarding.1', JSON.stringify({ v: 2, id: 'onboarding.1' }));
    await h.engine.track({ userId: 'ada', event: 'Signed Up', properties: { plan: 'pro' } });

    expect((await putBack(h.engine.queues.journeys)).attemptsMade).toBe(0);
    expect((await h.engine.customer('ada')).pendingEvents).toBe(1);
  });

  it('puts a timer job of a newer version back rather than let it run out of retries and be lost', async () => {
    const queue = h.engine.queues.journeys;
    await queue.add(TIMER_JOB, { v: 99 } as unknown as TimerJobData, { jobId: 't-ada-onboarding%2E1-3-0' });

    const job = await putBack(queue, 't-ada-onboarding%2E1-3-0');
    expect(job.attemptsMade).toBe(0);
    expect(job.data).toEqual({ v: 99 });
  });

  it('puts a drain job of a newer version back for later without spending an attempt', async () => {
    const queue = h.engine.queues.journeys;
    await queue.add(DRAIN_JOB, { v: 99, customerId: 'ada' }, { jobId: 'd-newer' });

    const job = await putBack(queue, 'd-newer');
    expect(job.attemptsMade).toBe(0);
    expect(job.data).toEqual({ v: 99, customerId: 'ada' });
  });

  it('puts a newer delivery job back for later without spending an attempt, and records nothing', async () => {
    const data = {
      v: 2,
      opId: 'op-newer',
      customerId: 'ada',
      channel: 'email',
    } as unknown as DeliveryJobData;
    const queue = h.engine.queues.deliveries.email;
    await queue.add('welcome', data, { jobId: data.opId });

    const job = await putBack(queue, data.opId);
    expect(job.attemptsMade).toBe(0);
    expect(job.finishedOn).toBeUndefined();
    expect((await h.engine.customer('ada')).messages).toEqual([]);
  });

  it('refuses a timer job of a newer version, and reads both versions it knows', () => {
    const job = (data: unknown) =>
      ({ id: 't-ada-onboarding%2E1-3-0', timestamp: 1_000, opts: {}, data }) as unknown as Job<TimerJobData>;
    expect(() => timerEvent(job({ v: 3 }))).toThrow(NewerVersionError);
    expect(timerEvent(job({ v: 2 }))).toMatchObject({ kind: 'timer', customerId: 'ada' });
    expect(
      timerEvent(
        job({
          v: 1,
          kind: 'timer',
          id: 't-1',
          customerId: 'ada',
          instanceId: 'i',
          sendId: 's',
          eventType: 's',
        }),
      ),
    ).toMatchObject({ kind: 'timer', customerId: 'ada', sendId: 's' });
  });
});
