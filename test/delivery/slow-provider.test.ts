import type { Worker } from 'bullmq';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FakeClock, type ChannelAdapter, type DeliveryResult, type Engine } from '../../engine/index.js';
import {
  adaJob,
  engineWithAda,
  startTestDeliveryWorker,
  TEST_CLAIM_STALE_MS,
} from '../support/delivery-worker.js';
import { eventually, testRedis } from '../support/redis.js';

describe('a run whose provider answers after the claim would have gone stale', () => {
  let ctx: ReturnType<typeof testRedis>;
  let engine: Engine;
  let worker: Worker | undefined;
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

  it('keeps its claim while it waits, so a second run of the job does not send it again', async () => {
    const job = adaJob('webhook', clock.now());
    const answers: Array<(result: DeliveryResult) => void> = [];
    // Idempotent, as webhooks are: a run taking over a stale claim would send it again.
    const slow: ChannelAdapter = {
      channel: 'webhook',
      provider: 'webhook',
      idempotent: true,
      send: () => new Promise((resolve) => answers.push(resolve)),
    };
    worker = startTestDeliveryWorker(engine, ctx.redis, 'webhook', { clock, adapters: { webhook: slow } });
    const queue = engine.queues.deliveries.webhook;
    await queue.add(job.message, job, { jobId: job.opId, attempts: 1 });
    await eventually(async () => answers.length === 1, 10_000, 'the first run to reach its provider');

    // The first run is alive but its job's lock lapses (its process starved for a moment): the
    // stalled check gives the job to a second run, which meets the first run's claim and waits.
    await ctx.redis.del(`${queue.opts.prefix}:${queue.name}:${job.opId}:lock`);
    // Waited for until the second run has met the claim and is waiting for it (its job delayed):
    // a second run that has only started may look at the claim after the clock jumps below, and
    // would find it stale before the first run's next renewal, whatever the renewals do.
    await eventually(
      async () => {
        const again = await queue.getJob(job.opId);
        return (again?.attemptsStarted ?? 0) >= 2 && (await again!.getState()) === 'delayed';
      },
      10_000,
      'a second run of the job to meet the claim',
    );
    // Long enough, by the claims' clock, for the claim to be stale had nobody renewed it; the
    // second run looks again when its wait is over.
    clock.advance(TEST_CLAIM_STALE_MS * 2);
    await eventually(
      async () => ((await queue.getJob(job.opId))?.attemptsStarted ?? 0) >= 3 || answers.length > 1,
      10_000,
      'the second run to look at the claim again',
    );
    expect(answers).toHaveLength(1);

    answers[0]!({ status: 'sent', providerId: 'wh-1' });
    const message = await eventually(async () => {
      const found = (await engine.customer('ada')).messages.find((m) => m.opId === job.opId);
      return found?.status === 'sent' && found;
    });
    expect(message).toMatchObject({ status: 'sent', providerId: 'wh-1' });
    expect(message).not.toHaveProperty('resent');
    expect(answers).toHaveLength(1);
  });
});
