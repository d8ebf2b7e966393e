import type { Worker } from 'bullmq';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FakeClock, type Engine } from '../../engine/index.js';
import {
  adaJob,
  startTestDeliveryWorker,
  TEST_CLAIM_STALE_MS,
  engineWithAda,
} from '../support/delivery-worker.js';
import { eventually, testRedis } from '../support/redis.js';

describe('an attempt that threw after claiming its send', () => {
  let ctx: ReturnType<typeof testRedis>;
  let engine: Engine;
  let worker: Worker | undefined;
  // Claims are dated by this clock: it stands still, so the thrown attempt's claim stays live until the test moves it.
  const clock = new FakeClock(Date.parse('2026-03-02T09:00:00Z'));

  beforeEach(async () => {
    ctx = testRedis();
    engine = await engineWithAda(ctx);
  });

  afterEach(async () => {
    await worker?.close(true);
    await engine.close();
    await ctx.cleanup();
  });

  it('is not sent again by its retry under the same lock token: the retry waits for the claim to go stale, then records unknown', async () => {
    const job = adaJob('sms', clock.now());
    let calls = 0;
    // One slot. After a job ends, BullMQ's slot fetches the next waiting job under the same lock
    // token; with other sends queued behind, the retry comes back to it after a few of them.
    worker = startTestDeliveryWorker(engine, ctx.redis, 'sms', {
      clock,
      options: { concurrency: 1 },
      adapters: {
        sms: {
          channel: 'sms',
          provider: 'twilio',
          idempotent: false,
          send: async (delivery) => {
            if (delivery.opId !== job.opId) return { status: 'sent', providerId: `SM-${delivery.opId}` };
            calls++;
            // The request may have gone out, then an error no result describes.
            throw new Error('socket hang up');
          },
        },
      },
    });
    const queue = engine.queues.deliveries.sms;
    await queue.add(job.message, job, { jobId: job.opId, attempts: 3 });
    const others = Array.from({ length: 200 }, (_, i) => ({ ...job, opId: `${job.opId}-other-${i}` }));
    await queue.addBulk(others.map((data) => ({ name: data.message, data, opts: { jobId: data.opId } })));

    await eventually(
      async () => ((await queue.getJob(job.opId))?.attemptsStarted ?? 0) >= 3,
      10_000,
      "the retry to meet the first attempt's claim and wait",
    );
    expect(calls).toBe(1);

    clock.advance(TEST_CLAIM_STALE_MS);
    const ended = await eventually(async () => {
      const message = (await engine.customer('ada')).messages.find((m) => m.opId === job.opId);
      return message?.status === 'unknown' && message;
    });
    expect(ended).toMatchObject({ channel: 'sms', status: 'unknown' });
    expect(calls).toBe(1);
  });
});
