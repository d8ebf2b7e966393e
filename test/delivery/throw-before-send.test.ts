import type { Worker } from 'bullmq';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FakeClock, type ChannelAdapter, type Engine, type LinkTracking } from '../../engine/index.js';
import {
  adaJob,
  engineWithAda,
  startTestDeliveryWorker,
  TEST_CLAIM_STALE_MS,
} from '../support/delivery-worker.js';
import { eventually, testRedis } from '../support/redis.js';

/** An SMS provider that accepts everything, keeping the operation ids it was sent. */
function recordingSms(sent: string[]): ChannelAdapter {
  return {
    channel: 'sms',
    provider: 'twilio',
    idempotent: false,
    send: async (delivery) => {
      sent.push(delivery.opId);
      return { status: 'sent', providerId: `SM-${sent.length}` };
    },
  };
}

describe('an attempt that threw after claiming its send but before calling the provider', () => {
  let ctx: ReturnType<typeof testRedis>;
  let engine: Engine;
  let worker: Worker | undefined;
  // Claims are dated by this clock: it stands still unless the test moves it.
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

  it('lets go of its claim, so the retry sends at once instead of ending the send unknown', async () => {
    const job = adaJob('sms', clock.now());
    // Link tracking that fails once, as a transient fault on the way to the provider would.
    let tagged = 0;
    const tracking: LinkTracking = {
      get baseUrl(): string {
        if (++tagged === 1) throw new Error('tracking unavailable');
        return 'https://chorus.test';
      },
      secret: 'tracking-secret-of-sixteen',
    };
    const sent: string[] = [];
    worker = startTestDeliveryWorker(engine, ctx.redis, 'sms', {
      clock,
      tracking,
      adapters: { sms: recordingSms(sent) },
    });
    const queue = engine.queues.deliveries.sms;
    await queue.add(job.message, job, { jobId: job.opId, attempts: 3 });

    await eventually(
      async () => ((await queue.getJob(job.opId))?.attemptsStarted ?? 0) >= 2,
      10_000,
      'the retry to run',
    );
    // Had the failed attempt kept its claim, the retry would wait for it to go stale, then take
    // it over as a run that may have sent, and record unknown without sending.
    clock.advance(TEST_CLAIM_STALE_MS);
    const ended = await eventually(async () => {
      const message = (await engine.customer('ada')).messages.find((m) => m.opId === job.opId);
      return message?.status !== undefined && message.status !== 'delayed' && message;
    });
    expect(ended).toMatchObject({ channel: 'sms', status: 'sent' });
    expect(sent).toEqual([job.opId]);
  });

  it('ends the send failed, not unknown, when every attempt throws before the provider is called', async () => {
    const job = adaJob('sms', clock.now());
    const tracking: LinkTracking = {
      get baseUrl(): string {
        throw new Error('tracking unavailable');
      },
      secret: 'tracking-secret-of-sixteen',
    };
    const sent: string[] = [];
    worker = startTestDeliveryWorker(engine, ctx.redis, 'sms', {
      clock,
      tracking,
      adapters: { sms: recordingSms(sent) },
    });
    await engine.queues.deliveries.sms.add(job.message, job, { jobId: job.opId, attempts: 2 });

    const ended = await eventually(async () => {
      const message = (await engine.customer('ada')).messages.find((m) => m.opId === job.opId);
      return message?.status !== undefined && message;
    });
    expect(ended).toMatchObject({ channel: 'sms', status: 'failed' });
    expect(sent).toEqual([]);
  });
});
