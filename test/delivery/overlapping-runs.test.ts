import type { Worker } from 'bullmq';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  createWebhookAdapter,
  FakeClock,
  generateWebhookSecret,
  type ChannelAdapter,
  type DeliveryJobData,
  type DeliveryResult,
  type Engine,
} from '../../engine/index.js';
import { startHttpServer } from '../channels/support.js';
import {
  adaJob,
  startTestDeliveryWorker,
  TEST_CLAIM_STALE_MS,
  engineWithAda,
} from '../support/delivery-worker.js';
import { eventually, testRedis } from '../support/redis.js';

type TestChannel = 'sms' | 'webhook';

describe('two runs of one delivery job, the second on its last attempt', () => {
  let ctx: ReturnType<typeof testRedis>;
  let engine: Engine;
  let server: Awaited<ReturnType<typeof startHttpServer>> | undefined;
  const workers: Worker[] = [];
  // Claims are dated by this clock: it stands still, so a live run's claim stays live until the test moves it.
  const clock = new FakeClock(Date.parse('2026-03-02T09:00:00Z'));

  beforeEach(async () => {
    ctx = testRedis();
    engine = await engineWithAda(ctx);
  });

  afterEach(async () => {
    await Promise.all(workers.splice(0).map((w) => w.close(true)));
    await engine.close();
    await server?.close();
    server = undefined;
    await ctx.cleanup();
  });

  function startWorker(channel: TestChannel, adapter: ChannelAdapter) {
    const worker = startTestDeliveryWorker(engine, ctx.redis, channel, {
      adapters: { [channel]: adapter },
      clock,
      ...(server ? { webhookUrl: `${server.url}/hook` } : {}),
    });
    workers.push(worker);
    return worker;
  }

  /** A provider that holds every send until the test answers it. */
  function heldProvider(channel: TestChannel) {
    const pending: Array<(result: DeliveryResult) => void> = [];
    const adapter: ChannelAdapter = {
      channel,
      provider: channel === 'sms' ? 'twilio' : 'webhook',
      idempotent: channel === 'webhook',
      send: () => new Promise((resolve) => pending.push(resolve)),
    };
    return { adapter, pending };
  }

  /** One attempt only: every run of the job is on its last attempt. */
  const enqueue = (job: DeliveryJobData) =>
    engine.queues.deliveries[job.channel].add(job.message, job, { jobId: job.opId, attempts: 1 });

  const messages = async () => (await engine.customer('ada')).messages;

  /** The first run claims the send and is with its provider when its worker stops renewing the lock. */
  async function firstRunStalls(channel: TestChannel) {
    const first = heldProvider(channel);
    const job = adaJob(channel, clock.now());
    await enqueue(job);
    const worker = startWorker(channel, first.adapter);
    await eventually(async () => first.pending.length === 1, 10_000, 'the first run to reach its provider');
    // Its run goes on (the provider still has the send); only BullMQ's lock is let go.
    await worker.close(true);
    return { job, answer: first.pending[0]! };
  }

  /** The second run has met the first run's claim: it waits, or (before the fix) gave the job up. */
  async function secondRunMeetsClaim(job: DeliveryJobData) {
    await eventually(
      async () =>
        (await engine.queues.deliveries[job.channel].getJobState(job.opId)) === 'delayed' ||
        (await messages()).length > 0,
      10_000,
      'the second run to meet the claim',
    );
  }

  const settled = (job: DeliveryJobData) =>
    eventually(async () => {
      const state = await engine.queues.deliveries[job.channel].getJobState(job.opId);
      return (state === 'completed' || state === 'failed') && state;
    });

  it("records the first run's send: the second run waits for the claim instead of ending it unknown", async () => {
    const { job, answer } = await firstRunStalls('sms');
    let secondCalls = 0;
    startWorker('sms', {
      channel: 'sms',
      provider: 'twilio',
      idempotent: false,
      send: async () => {
        secondCalls++;
        return { status: 'sent', providerId: 'SM2' };
      },
    });
    await secondRunMeetsClaim(job);

    answer({ status: 'sent', providerId: 'SM1' });
    expect(await settled(job)).toBe('completed');
    expect(await messages()).toEqual([
      expect.objectContaining({ channel: 'sms', status: 'sent', providerId: 'SM1' }),
    ]);
    expect(secondCalls).toBe(0);
  });

  it('still ends the send when the run holding the claim died: once the claim is stale it is resumed', async () => {
    server = await startHttpServer({ status: 204 });
    const { job } = await firstRunStalls('webhook');
    startWorker(
      'webhook',
      createWebhookAdapter({ secret: generateWebhookSecret(), allowPrivateTargets: true }),
    );
    await secondRunMeetsClaim(job);

    // The first run never answers: its claim goes stale, and the waiting job sends it again.
    clock.advance(TEST_CLAIM_STALE_MS);
    expect(await settled(job)).toBe('completed');
    expect(await messages()).toEqual([
      expect.objectContaining({ channel: 'webhook', status: 'sent', resent: true }),
    ]);
    expect(server.requests.map((r) => r.headers['webhook-id'])).toEqual([job.opId]);
  });
});
