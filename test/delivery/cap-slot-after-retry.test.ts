import type { Worker } from 'bullmq';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  ConsentStore,
  createDefaultPolicy,
  customerKeys,
  FakeClock,
  FrequencyCapRules,
  respectfulSending,
  type ChannelAdapter,
  type DeliveryPolicy,
  type Engine,
} from '../../engine/index.js';
import { adaJob, engineWithAda, startTestDeliveryWorker } from '../support/delivery-worker.js';
import { eventually, testRedis } from '../support/redis.js';

describe('a cap slot taken by an attempt whose provider asked to retry, when consent is then withdrawn', () => {
  let ctx: ReturnType<typeof testRedis>;
  let engine: Engine;
  let consent: ConsentStore;
  let policy: DeliveryPolicy;
  const workers: Worker[] = [];
  const clock = new FakeClock(Date.parse('2026-03-02T09:00:00Z'));

  beforeEach(async () => {
    ctx = testRedis();
    engine = await engineWithAda(ctx);
    await engine.identify({ userId: 'ada', traits: { email: 'ada@example.com' } });
    await eventually(async () => (await engine.store.profile('ada')).email === 'ada@example.com');
    consent = new ConsentStore(ctx.redis, ctx.prefix);
    await consent.set('ada', {
      channel: 'sms',
      topic: 'marketing',
      state: 'granted',
      at: clock.now(),
      source: 'test',
    });
    policy = createDefaultPolicy({
      redis: ctx.redis,
      prefix: ctx.prefix,
      timing: respectfulSending({
        redis: ctx.redis,
        prefix: ctx.prefix,
        caps: FrequencyCapRules.parse('marketing:1/24h,sms:1/1d'),
        defaultTimezone: 'UTC',
      }),
    });
  });

  afterEach(async () => {
    // Not forced: a run that outlived its test's last check (the SMS run still counting its delay)
    // would write the customer's keys back after the cleanup below.
    for (const worker of workers.splice(0)) await worker.close();
    await engine.close();
    await ctx.cleanup();
  });

  /** An SMTP server that answers 421 once, while the customer unsubscribes from email marketing. */
  const deferringEmail = (): ChannelAdapter => ({
    channel: 'email',
    provider: 'smtp',
    idempotent: true,
    send: async () => {
      await consent.set('ada', {
        channel: 'email',
        topic: 'marketing',
        state: 'denied',
        at: clock.now(),
        source: 'preference centre',
      });
      return { status: 'retry', reason: '421 4.7.0 try again later' };
    },
  });

  const smsSent: string[] = [];
  const sms: ChannelAdapter = {
    channel: 'sms',
    provider: 'twilio',
    idempotent: false,
    send: async (delivery) => {
      smsSent.push(delivery.opId);
      return { status: 'sent', providerId: `SM-${smsSent.length}` };
    },
  };

  const ended = (opId: string) =>
    eventually(async () => {
      const entries = (await engine.customer('ada')).messages.filter((m) => m.opId === opId);
      return entries.some((m) => m.status !== 'rerouted') ? entries : undefined;
    });

  it('is given back when the send is rerouted, and the next channel is held by its own cap', async () => {
    const keys = customerKeys(ctx.prefix, 'ada');
    // The day's one SMS went out already.
    await ctx.redis.zadd(keys.cap('sms:1/1d'), clock.now() - 3_600_000, 'an-earlier-sms');
    const adapters = { email: deferringEmail(), sms };
    for (const channel of ['email', 'sms'] as const)
      workers.push(startTestDeliveryWorker(engine, ctx.redis, channel, { clock, adapters, policy }));
    const job = adaJob('email', clock.now(), ['email', 'sms']);
    await engine.queues.deliveries.email.add(job.message, job, { jobId: job.opId, attempts: 3 });

    const entries = await ended(job.opId);
    const onEmail = entries.find((m) => m.channel === 'email');
    const onSms = entries.find((m) => m.channel === 'sms');
    expect(onEmail).toMatchObject({ channel: 'email', status: 'rerouted', rule: 'consent', to: 'sms' });
    expect(onSms).toMatchObject({
      channel: 'sms',
      status: 'delayed',
      rule: 'frequency-cap',
      until: clock.now() + 23 * 3_600_000,
    });
    expect(smsSent).toEqual([]);
    expect(await ctx.redis.zrange(keys.cap('marketing:1/24h'), 0, -1)).toEqual([]);
  });

  it("is given back when the send is skipped, so the customer still gets the day's marketing message", async () => {
    const adapters = { email: deferringEmail() };
    workers.push(startTestDeliveryWorker(engine, ctx.redis, 'email', { clock, adapters, policy }));
    const job = adaJob('email', clock.now(), ['email']);
    await engine.queues.deliveries.email.add(job.message, job, { jobId: job.opId, attempts: 3 });

    const [skipped] = await ended(job.opId);
    expect(skipped).toMatchObject({ channel: 'email', status: 'skipped', rule: 'consent' });
    const capKey = customerKeys(ctx.prefix, 'ada').cap('marketing:1/24h');
    await eventually(async () => (await ctx.redis.zcard(capKey)) === 0, 5_000, 'the slot to be given back');
  });
});

describe('a cap slot taken by an attempt whose provider asked to retry, when the retry goes out later', () => {
  let ctx: ReturnType<typeof testRedis>;
  let engine: Engine;
  let worker: Worker | undefined;
  const clock = new FakeClock(Date.parse('2026-03-02T09:00:00Z'));
  const start = clock.now();
  const MINUTE = 60_000;

  beforeEach(async () => {
    ctx = testRedis();
    engine = await engineWithAda(ctx);
    await engine.identify({ userId: 'ada', traits: { email: 'ada@example.com' } });
    await eventually(async () => (await engine.store.profile('ada')).email === 'ada@example.com');
  });

  afterEach(async () => {
    await worker?.close();
    await engine.close();
    await ctx.cleanup();
  });

  it('counts the send from when it went out, so the next one waits a full window from then', async () => {
    const sent: string[] = [];
    let asked = 0;
    // The SMTP server defers the first attempt; the retry goes out 45 minutes later.
    const email: ChannelAdapter = {
      channel: 'email',
      provider: 'smtp',
      idempotent: true,
      send: async (delivery) => {
        if (asked++ === 0) {
          clock.set(start + 45 * MINUTE);
          return { status: 'retry', reason: '421 4.7.0 try again later' };
        }
        sent.push(delivery.opId);
        return { status: 'sent', providerId: `m-${sent.length}` };
      },
    };
    const policy = createDefaultPolicy({
      redis: ctx.redis,
      prefix: ctx.prefix,
      timing: respectfulSending({
        redis: ctx.redis,
        prefix: ctx.prefix,
        caps: FrequencyCapRules.parse('marketing:1/1h'),
        defaultTimezone: 'UTC',
      }),
    });
    worker = startTestDeliveryWorker(engine, ctx.redis, 'email', { clock, adapters: { email }, policy });
    const first = adaJob('email', clock.now());
    await engine.queues.deliveries.email.add(first.message, first, { jobId: first.opId, attempts: 3 });
    await eventually(async () => sent.length === 1);

    // An hour after the first attempt, a quarter of an hour after the email went out.
    clock.set(start + 61 * MINUTE);
    const second = { ...adaJob('email', clock.now()), opId: 's-ada-ping-email-2' };
    await engine.queues.deliveries.email.add(second.message, second, { jobId: second.opId });
    const held = await eventually(async () =>
      (await engine.customer('ada')).messages.find((m) => m.opId === second.opId),
    );
    expect(held).toMatchObject({ status: 'delayed', rule: 'frequency-cap', until: start + 105 * MINUTE });
    expect(sent).toEqual([first.opId]);
  });
});
