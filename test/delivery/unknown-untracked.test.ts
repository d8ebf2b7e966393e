import type { Worker } from 'bullmq';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { systemClock, type Engine } from '../../engine/index.js';
import { adaJob, engineWithAda, startTestDeliveryWorker } from '../support/delivery-worker.js';
import { eventually, testRedis } from '../support/redis.js';

describe('a send recorded unknown after its provider went silent', () => {
  let ctx: ReturnType<typeof testRedis>;
  let engine: Engine;
  let worker: Worker | undefined;

  beforeEach(async () => {
    ctx = testRedis();
    engine = await engineWithAda(ctx);
  });

  afterEach(async () => {
    await worker?.close(true);
    worker = undefined;
    await engine.close();
    await ctx.cleanup();
  });

  it('says on its entry what could not be seen of it, as a sent one does', async () => {
    // Without link tracking a text's clicks cannot be seen: once a report shows it went, it is
    // counted sent, and must not read as a text nobody clicked.
    worker = startTestDeliveryWorker(engine, ctx.redis, 'sms', {
      clock: systemClock,
      adapters: {
        sms: {
          channel: 'sms',
          provider: 'twilio',
          idempotent: false,
          send: async () => ({ status: 'retry', reason: 'timed out', mayHaveArrived: true }),
        },
      },
    });
    const job = adaJob('sms', Date.now());
    await engine.queues.deliveries.sms.add(job.message, job, { jobId: job.opId });
    const ended = await eventually(async () => {
      const message = (await engine.customer('ada')).messages.find((m) => m.opId === job.opId);
      return message?.status === 'unknown' && message;
    });
    expect(ended).toMatchObject({ channel: 'sms', status: 'unknown', untracked: ['clicks'] });
  });
});
