import type { Worker } from 'bullmq';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  createSmsAdapter,
  createWebhookAdapter,
  generateWebhookSecret,
  systemClock,
  type ChannelAdapter,
  type DeliveryJobData,
  type DeliveryPolicy,
  type DeliveryWorkerOptions,
  type Engine,
} from '../../engine/index.js';
import { startHttpServer, type Reply } from '../channels/support.js';
import { adaJob, engineWithAda, startTestDeliveryWorker } from '../support/delivery-worker.js';
import { eventually, testRedis } from '../support/redis.js';

type TestChannel = 'sms' | 'webhook';

describe('a delivery whose earlier run left no outcome', () => {
  let ctx: ReturnType<typeof testRedis>;
  let engine: Engine;
  let server: Awaited<ReturnType<typeof startHttpServer>> | undefined;
  const workers: Worker[] = [];
  let policyCalls = 0;
  let decide: ReturnType<DeliveryPolicy['check']> extends Promise<infer D> ? () => D : never;
  const policy: DeliveryPolicy = {
    check: async () => {
      policyCalls++;
      return decide();
    },
  };

  beforeEach(async () => {
    ctx = testRedis();
    policyCalls = 0;
    decide = () => ({ action: 'send' });
    engine = await engineWithAda(ctx);
  });

  afterEach(async () => {
    await Promise.all(workers.splice(0).map((w) => w.close(true)));
    await engine.close();
    await server?.close();
    server = undefined;
    await ctx.cleanup();
  });

  async function provider(...replies: Reply[]) {
    server = await startHttpServer(...replies);
    return server;
  }

  function adapterFor(channel: TestChannel, url: string): ChannelAdapter {
    return channel === 'sms'
      ? createSmsAdapter({ baseUrl: url, accountSid: 'AC1', authToken: 't', from: '+15550199' })
      : createWebhookAdapter({ secret: generateWebhookSecret(), allowPrivateTargets: true });
  }

  /** A delivery worker of `channel` as the engine would start it, with short timings. */
  function startWorker(
    channel: TestChannel,
    adapter: ChannelAdapter,
    options: Partial<DeliveryWorkerOptions> = {},
  ) {
    // Claims are dated by the system clock here: one goes stale after a second of real time.
    const worker = startTestDeliveryWorker(engine, ctx.redis, channel, {
      adapters: { [channel]: adapter },
      clock: systemClock,
      policy,
      ...(server ? { webhookUrl: `${server.url}/hook` } : {}),
      options: { claimStaleMs: 1_000, ...options },
    });
    workers.push(worker);
    return worker;
  }

  const jobFor = (channel: TestChannel): DeliveryJobData => adaJob(channel, Date.now());

  const opKey = (job: DeliveryJobData) => engine.store.keys(job.customerId).op(job.opId);

  async function enqueue(job: DeliveryJobData) {
    return engine.queues.deliveries[job.channel].add(job.message, job, { jobId: job.opId });
  }

  async function messages(count = 1) {
    return eventually(async () => {
      const list = (await engine.customer('ada')).messages;
      return list.length >= count ? list : undefined;
    });
  }

  it('records an SMS as unknown, without sending it again or asking the policy, once the claim is stale', async () => {
    const server = await provider({ status: 201, body: '{"sid":"SM1"}' });
    const job = jobFor('sms');
    // An earlier run claimed the send 700 ms ago and died; the claim goes stale at 1 000 ms.
    await ctx.redis.hset(opKey(job), { state: 'sending', token: 'a-dead-run', since: Date.now() - 700 });
    decide = () => ({ action: 'skip', reason: 'would be a lie: the message may be out' });
    const added = Date.now();
    await enqueue(job);
    startWorker('sms', adapterFor('sms', server.url));

    const [entry] = await messages();
    expect(entry).toMatchObject({
      channel: 'sms',
      status: 'unknown',
      provider: 'twilio',
      reason: expect.stringContaining('twilio cannot recognise a repeated send, so it was not sent again'),
    });
    expect(Date.now() - added).toBeGreaterThanOrEqual(250);
    expect(server.requests).toHaveLength(0);
    expect(policyCalls).toBe(0);
    expect(await ctx.redis.hget(opKey(job), 'state')).toBe('unknown');
  });

  it('sends a webhook again with the same webhook-id and records it sent once', async () => {
    const server = await provider({ status: 204 });
    const job = jobFor('webhook');
    await ctx.redis.hset(opKey(job), { state: 'sending', token: 'a-dead-run', since: Date.now() - 60_000 });
    await enqueue(job);
    startWorker('webhook', adapterFor('webhook', server.url));

    const list = await messages();
    expect(list).toEqual([expect.objectContaining({ channel: 'webhook', status: 'sent', resent: true })]);
    expect(server.requests.map((r) => r.headers['webhook-id'])).toEqual([job.opId]);
  });

  it('records an SMS whose provider did not answer in time as unknown, and does not retry it', async () => {
    const server = await provider('hang', { status: 201, body: '{"sid":"SM1"}' });
    const job = jobFor('sms');
    const added = await enqueue(job);
    const sms = createSmsAdapter({
      baseUrl: server.url,
      accountSid: 'AC1',
      authToken: 't',
      from: '+15550199',
      // Long enough for the request to reach the hanging server on a loaded machine: the test
      // checks it did, which a shorter timeout could abort before the connection was made.
      timeoutMs: 1000,
    });
    startWorker('sms', sms);

    const [entry] = await messages();
    expect(entry).toMatchObject({
      status: 'unknown',
      reason: expect.stringMatching(/did not answer within 1000 ms; the request may have reached twilio/),
    });
    await eventually(async () => added.isCompleted());
    expect(server.requests).toHaveLength(1);
  });

  it('does not ask the policy again, nor call the provider, for an operation that already ended', async () => {
    const server = await provider({ status: 201, body: '{"sid":"SM1"}' });
    const job = jobFor('sms');
    await ctx.redis.hset(opKey(job), { state: 'sent' });
    const added = await enqueue(job);
    startWorker('sms', adapterFor('sms', server.url));

    const done = await eventually(async () => (await added.isCompleted()) && added);
    expect((await engine.queues.deliveries.sms.getJob(done.id!))?.returnvalue).toBe('already sent');
    expect(policyCalls).toBe(0);
    expect(server.requests).toHaveLength(0);
  });

  it('forwards a replayed send that was rerouted, instead of deciding again', async () => {
    const job = jobFor('sms');
    await ctx.redis.hset(opKey(job), { route: 'push' });
    decide = () => ({ action: 'skip', reason: 'must not be asked' });
    await enqueue(job);
    startWorker('sms', adapterFor('sms', 'http://127.0.0.1:9'));

    const forwarded = await eventually(async () => engine.queues.deliveries.push.getJob(job.opId));
    expect(forwarded.data).toMatchObject({ opId: job.opId, channel: 'push' });
    expect(policyCalls).toBe(0);
    expect((await engine.customer('ada')).messages).toEqual([]);
  });

  it('retries a failing outcome write in process after the provider accepted, and sends once', async () => {
    const server = await provider({ status: 201, body: '{"sid":"SM1"}' });
    const job = jobFor('sms');
    const sms = adapterFor('sms', server.url);
    // Right after the provider accepts, the ledger key holds the wrong type for 200 ms: every
    // write to it fails (WRONGTYPE) until it is put back.
    const flaky: ChannelAdapter = {
      ...sms,
      async send(delivery) {
        const result = await sms.send(delivery);
        const saved = await ctx.redis.hgetall(opKey(job));
        await ctx.redis.del(opKey(job));
        await ctx.redis.set(opKey(job), 'not a hash');
        setTimeout(() => {
          void ctx.redis.multi().del(opKey(job)).hset(opKey(job), saved).exec();
        }, 200);
        return result;
      },
    };
    const added = await enqueue(job);
    startWorker('sms', flaky);

    const [entry] = await messages();
    expect(entry).toMatchObject({ status: 'sent', providerId: 'SM1' });
    const done = await eventually(async () => (await added.isCompleted()) && added);
    expect((await engine.queues.deliveries.sms.getJob(done.id!))?.attemptsMade).toBe(1);
    expect(server.requests).toHaveLength(1);
  });

  it('ends a job BullMQ fails for stalling too often as unknown on the message list', async () => {
    const job = jobFor('sms');
    let calls = 0;
    // The first worker's run never returns, as if its process had died mid-send.
    const dying: ChannelAdapter = {
      channel: 'sms',
      provider: 'twilio',
      idempotent: false,
      send: () => {
        calls++;
        return new Promise(() => {});
      },
    };
    await enqueue(job);
    const first = startWorker('sms', dying);
    await eventually(async () => calls === 1);
    await first.close(true); // stops renewing the job's lock, like a dead process

    // A worker that allows no stall: BullMQ fails the job itself, without running our processor.
    startWorker('sms', adapterFor('sms', 'http://127.0.0.1:9'), { maxStalledCount: 0 });
    const [entry] = await messages();
    expect(entry).toMatchObject({
      status: 'unknown',
      reason: expect.stringContaining('stalled more than allowable limit'),
    });
    expect(entry!.reason).toContain('may or may not have arrived');
    await eventually(async () => (await engine.queues.deliveries.sms.getFailedCount()) === 1);
    expect(calls).toBe(1);
  });
});
