import type { Worker } from 'bullmq';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { retryDelay, systemClock, type ChannelAdapter, type Engine } from '../../engine/index.js';
import { adaJob, engineWithAda, startTestDeliveryWorker } from '../support/delivery-worker.js';
import { eventually, testRedis } from '../support/redis.js';

/** A provider that defers every send, as during a long outage. */
const deferring: ChannelAdapter & { calls: number } = {
  channel: 'sms',
  provider: 'relay',
  idempotent: false,
  calls: 0,
  async send() {
    deferring.calls += 1;
    return { status: 'retry', reason: '451 try again later' };
  },
};

describe('the longest wait between the attempts of a deferred send (DELIVERY_RETRY_MAX_MS)', () => {
  let ctx: ReturnType<typeof testRedis>;
  let engine: Engine;
  let worker: Worker | undefined;

  beforeEach(async () => {
    ctx = testRedis();
    engine = await engineWithAda(ctx);
    deferring.calls = 0;
  });

  afterEach(async () => {
    await worker?.close(true);
    await engine.close();
    await ctx.cleanup();
  });

  it('is reached before the last attempt, so raising it lets sends ride out a longer outage', async () => {
    // Three attempts: the wait before the last is the longest, and should be about an hour.
    const job = adaJob('sms', Date.now());
    const queue = engine.queues.deliveries.sms;
    await queue.add(job.message, job, { jobId: job.opId, attempts: 3 });
    worker = startTestDeliveryWorker(engine, ctx.redis, 'sms', {
      adapters: { sms: deferring },
      clock: systemClock,
      options: { retry: { baseMs: 10, maxMs: 3_600_000 } },
    });
    await eventually(async () => deferring.calls === 2 && (await queue.getJobState(job.opId)) === 'delayed');
    const [delayed] = await queue.getDelayed();
    const due = delayed!.timestamp + delayed!.delay;
    // Equal jitter: at least half the longest wait for certain. Doubling from 10 ms, it was 20 ms.
    expect(due - Date.now()).toBeGreaterThan(1_700_000);
  });

  it('keeps doubling from the base while doubling reaches it within the attempts', () => {
    const waits = (attempts: number, maxMs: number) =>
      Array.from({ length: attempts - 1 }, (_, i) =>
        retryDelay(i + 1, { baseMs: 1_000, maxMs, attempts, random: () => 1 }),
      );
    expect(waits(10, 60_000)).toEqual([1_000, 2_000, 4_000, 8_000, 16_000, 32_000, 60_000, 60_000, 60_000]);
    const hour = waits(10, 3_600_000);
    expect(hour.at(-1)).toBe(3_600_000);
    // Each wait longer than the one before, none longer than the cap.
    expect(hour.every((wait, i) => i === 0 || wait > hour[i - 1]!)).toBe(true);
  });
});
