import type { Job } from 'bullmq';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createEngine, NewerVersionError, type DeliveryJobData, type Engine } from '../../engine/index.js';

import { timerEvent, type TimerJobData } from '../../engine/runtime/timer-job.js';
import { onboarding } from '../fixtures/journeys/onboarding.js';
import { testDelivery } from '../support/delivery.js';
import { eventually, testRedis } from '../support/redis.js';

/**
 * During a rolling upgrade an older worker meets what a newer one wrote. It must neither guess at
 * it nor throw it away: the job fails and is retried, for a newer worker to take.
 */
describe('data written by a newer version of Chorus', () => {
  let ctx: ReturnType<typeof testRedis>;
  let outbox: ReturnType<typeof testDelivery>;
  let engine: Engine;

  beforeEach(() => {
    ctx = testRedis();
    outbox = testDelivery(ctx.redis, ctx.prefix, [onboarding]);
    engine = createEngine({
      redis: ctx.redis,
      prefix: ctx.prefix,
      journeys: [onboarding],
      messages: outbox.messages,
      delivery: outbox.delivery,
    });
    engine.startWorkers();
  });
  afterEach(async () => {
    await engine.close();
    outbox.cleanup();
    await ctx.cleanup();
  });

  /** The job of `queue` whose last attempt failed with a reason matching `reason`. */
  const failedWith = (queue: Engine['queues']['journeys'], reason: RegExp) =>
    eventually(async () => {
      const jobs = await queue.getJobs(['delayed', 'wait', 'failed']);
      return jobs.find((job) => reason.test(job.failedReason ?? ''));
    });

  it('keeps an inbox holding a newer event, in order, for a newer worker: nothing applied, nothing dead-lettered', async () => {
    const keys = engine.store.keys('ada');
    const newer = { v: 2, kind: 'track', id: 'e-new', customerId: 'ada', name: 'Signed Up', timestamp: 1 };
    await ctx.redis.rpush(keys.inbox, JSON.stringify(newer));
    // A known event behind it, and the drain job that comes with it.
    await engine.track({ userId: 'ada', event: 'Signed Up', properties: { plan: 'pro' } });

    const job = await failedWith(engine.queues.journeys, /inbox of customer "ada" is of version 2/);
    expect(job.finishedOn).toBeUndefined();
    const customer = await engine.customer('ada');
    expect(customer.instances).toEqual([]);
    expect(customer.deadLetters).toEqual([]);
    expect(customer.pendingEvents).toBe(2);
  });

  it('does not step an instance of a newer shape', async () => {
    const keys = engine.store.keys('ada');
    await ctx.redis.hset(keys.state, 'i:onboarding.1', JSON.stringify({ v: 2, id: 'onboarding.1' }));
    await engine.track({ userId: 'ada', event: 'Signed Up', properties: { plan: 'pro' } });

    await failedWith(engine.queues.journeys, /Instance onboarding\.1 of customer "ada" is of version 2/);
    expect((await engine.customer('ada')).pendingEvents).toBe(1);
  });

  it('puts a newer delivery job back for later without spending an attempt, and records nothing', async () => {
    const data = {
      v: 2,
      opId: 'op-newer',
      customerId: 'ada',
      channel: 'email',
    } as unknown as DeliveryJobData;
    const queue = engine.queues.deliveries.email;
    await queue.add('welcome', data, { jobId: data.opId });

    const job = await eventually(async () => {
      const found = await queue.getJob(data.opId);
      return found && found.attemptsStarted > 0 && (await found.getState()) === 'delayed' ? found : undefined;
    });
    expect(job.attemptsMade).toBe(0);
    expect(job.finishedOn).toBeUndefined();
    expect((await engine.customer('ada')).messages).toEqual([]);
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
