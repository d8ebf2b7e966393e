import type { Worker } from 'bullmq';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { endOperation, releaseOperation } from '../../engine/delivery/delivery-ledger.js';
import {
  customerKeys,
  FakeClock,
  policyCountsKey,
  type ChannelAdapter,
  type DeliveryJobData,
  type DeliveryPolicy,
  type Engine,
} from '../../engine/index.js';
import { adaJob, startTestDeliveryWorker, engineWithAda } from '../support/delivery-worker.js';
import { eventually, testRedis } from '../support/redis.js';

/** A provider never reached: the send is rerouted, or another run sends it. */
const unused = (channel: 'sms' | 'push'): ChannelAdapter => ({
  channel,
  provider: channel,
  idempotent: false,
  send: () => Promise.reject(new Error(`${channel} must not be called`)),
});

describe('a policy decision that meets another run of the same send', () => {
  let ctx: ReturnType<typeof testRedis>;
  let engine: Engine;
  const workers: Worker[] = [];
  const clock = new FakeClock(Date.parse('2026-03-02T09:00:00Z'));
  let policyCalls = 0;

  beforeEach(async () => {
    ctx = testRedis();
    policyCalls = 0;
    engine = await engineWithAda(ctx);
  });

  afterEach(async () => {
    await Promise.all(workers.splice(0).map((w) => w.close(true)));
    await engine.close();
    await ctx.cleanup();
  });

  const keysOf = (job: DeliveryJobData) => {
    const customer = customerKeys(ctx.prefix, job.customerId);
    return { op: customer.op(job.opId), messages: customer.messages };
  };

  /**
   * A policy that reroutes the SMS to push. While the first check runs, another run of the job
   * claims the send (it read the operation before this run's reroute was written).
   */
  function reroutingPolicy(job: DeliveryJobData): DeliveryPolicy {
    return {
      check: async () => {
        if (++policyCalls === 1)
          await ctx.redis.hset(keysOf(job).op, {
            state: 'sending',
            token: 'another-run',
            since: clock.now(),
          });
        return { action: 'reroute', reason: 'no SMS consent', rule: 'consent' };
      },
    };
  }

  function startSmsWorker(job: DeliveryJobData, policy = reroutingPolicy(job)) {
    const worker = startTestDeliveryWorker(engine, ctx.redis, 'sms', {
      adapters: { sms: unused('sms'), push: unused('push') },
      clock,
      policy,
    });
    workers.push(worker);
    return worker;
  }

  const jobState = (job: DeliveryJobData) => engine.queues.deliveries.sms.getJobState(job.opId);
  const messages = async () => (await engine.customer('ada')).messages;

  it("leaves the other run's outcome standing when it meets its claim on the job's last attempt", async () => {
    const job = adaJob('sms', clock.now(), ['sms', 'push']);
    await engine.queues.deliveries.sms.add(job.message, job, { jobId: job.opId, attempts: 1 });
    startSmsWorker(job);
    await eventually(
      async () => (await jobState(job)) === 'delayed' || (await messages()).length > 0,
      10_000,
      'the reroute to meet the claim',
    );

    // The other run's provider accepted the send.
    await endOperation(
      ctx.redis,
      keysOf(job),
      'sent',
      { opId: job.opId, channel: 'sms', status: 'sent' },
      100,
    );
    const settled = await eventually(async () => {
      const state = await jobState(job);
      return (state === 'completed' || state === 'failed') && state;
    });
    expect(settled).toBe('completed');
    expect(await messages()).toEqual([{ opId: job.opId, channel: 'sms', status: 'sent' }]);
    expect(await engine.queues.deliveries.push.getJob(job.opId)).toBeUndefined();
    expect(policyCalls).toBe(1);
    // Nothing was rerouted, so no reroute is counted.
    expect(await ctx.redis.hgetall(policyCountsKey(ctx.prefix))).toEqual({});
  });

  it('counts the reroute once, when the run that hands the send on sets its route', async () => {
    const job = adaJob('sms', clock.now(), ['sms', 'push']);
    await engine.queues.deliveries.sms.add(job.message, job, { jobId: job.opId });
    const worker = startSmsWorker(job);
    await eventually(
      async () => (await jobState(job)) === 'delayed',
      10_000,
      'the reroute to meet the claim',
    );

    // The other run's provider asked to try later, with nothing sent: the job decides again. No
    // worker runs meanwhile: a run between its read of the send (claimed: no policy asked) and its
    // claim would otherwise take the released send to the SMS provider.
    await worker.close();
    expect(await jobState(job)).toBe('delayed');
    await releaseOperation(ctx.redis, keysOf(job).op, 'another-run');
    startSmsWorker(job);
    const forwarded = await eventually(async () => engine.queues.deliveries.push.getJob(job.opId));
    expect(forwarded.data).toMatchObject({ opId: job.opId, channel: 'push' });
    expect(policyCalls).toBe(2);
    expect(await ctx.redis.hgetall(policyCountsKey(ctx.prefix))).toEqual({ 'sms|reroute|consent': '1' });
    expect((await messages()).map((m) => [m.channel, m.status, m.to])).toEqual([['sms', 'rerouted', 'push']]);
  });

  it('does not count a skip when another run ended the send while the policy was asked', async () => {
    const job = adaJob('sms', clock.now());
    const sent = { opId: job.opId, channel: 'sms', status: 'sent' };
    const added = await engine.queues.deliveries.sms.add(job.message, job, { jobId: job.opId });
    startSmsWorker(job, {
      check: async () => {
        policyCalls++;
        await endOperation(ctx.redis, keysOf(job), 'sent', sent, 100);
        return { action: 'skip', reason: 'unsubscribed', rule: 'consent' };
      },
    });

    await eventually(async () => (await jobState(job)) === 'completed', 10_000, 'the job to complete');
    expect((await engine.queues.deliveries.sms.getJob(added.id!))?.returnvalue).toBe('already ended');
    expect(await messages()).toEqual([sent]);
    expect(await ctx.redis.hgetall(policyCountsKey(ctx.prefix))).toEqual({});
  });
});
