import type { Worker } from 'bullmq';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createEmailAdapter, systemClock, type ChannelAdapter, type Engine } from '../../engine/index.js';
import { adaJob, engineWithAda, startTestDeliveryWorker } from '../support/delivery-worker.js';
import { TEST_MAIL_FROM } from '../support/delivery.js';
import { eventually, testRedis } from '../support/redis.js';
import { startSmtpSink, type SmtpSink } from '../support/smtp-sink.js';

/**
 * A run that died mid-send leaves its claim; the run that takes it over sends the email again
 * (same Message-ID). When the server defers that copy (451), the send is still one whose first
 * copy may have arrived, on every later attempt too.
 */
describe('an email resumed after a run died mid-send, whose server then defers it', () => {
  let sink: SmtpSink;
  let ctx: ReturnType<typeof testRedis>;
  let engine: Engine;
  let adapter: ChannelAdapter;
  let worker: Worker | undefined;

  beforeAll(async () => {
    sink = await startSmtpSink();
  });

  afterAll(() => sink.close());

  beforeEach(async () => {
    ctx = testRedis();
    engine = await engineWithAda(ctx);
    await engine.identify({ userId: 'ada', traits: { email: 'ada@example.com' } });
    await eventually(async () => (await engine.store.profile('ada')).email === 'ada@example.com');
  });

  afterEach(async () => {
    await worker?.close(true);
    worker = undefined;
    await adapter.close?.();
    await engine.close();
    await ctx.cleanup();
    sink.reset();
  });

  async function resume(answers: SmtpSink['answers']) {
    sink.answers = answers;
    const job = adaJob('email', Date.now());
    // The dead run's claim, already stale: the next run takes it over at once.
    const opKey = engine.store.keys('ada').op(job.opId);
    await ctx.redis.hset(opKey, { state: 'sending', token: 'a-dead-run', since: Date.now() - 60_000 });
    await engine.queues.deliveries.email.add(job.message, job, { jobId: job.opId });
    // Short enough that a held copy times out quickly; the sink answers everything else at once.
    adapter = createEmailAdapter({ from: TEST_MAIL_FROM, smtpUrl: sink.url, timeoutMs: 500 });
    worker = startTestDeliveryWorker(engine, ctx.redis, 'email', {
      adapters: { email: adapter },
      clock: systemClock,
      options: { claimStaleMs: 1_000 },
    });
    const [entry] = await eventually(
      async () => {
        const { messages } = await engine.customer('ada');
        return messages.length > 0 ? messages : undefined;
      },
      20_000,
      'the send to end',
    );
    return entry!;
  }

  it('records a later refusal as unknown, not failed: the dead run’s copy may have arrived', async () => {
    const entry = await resume([451, 550]);
    expect(entry).toMatchObject({
      status: 'unknown',
      reason: expect.stringContaining('an earlier copy may have arrived'),
    });
  });

  it('marks the copy that is accepted later as resent', async () => {
    const entry = await resume([451]);
    expect(entry).toMatchObject({ status: 'sent', resent: true });
    expect(sink.received).toHaveLength(1);
  });

  it('does not send a third copy once a later one also goes unanswered', async () => {
    // The dead run's copy, then (after the 451) one the server takes without answering.
    const entry = await resume([451, 'hold']);
    expect(entry).toMatchObject({
      status: 'unknown',
      reason: expect.stringContaining('not sent a third time'),
    });
    expect(sink.attempts).toHaveLength(2);
  });
});
