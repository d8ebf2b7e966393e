import type { Worker } from 'bullmq';
import Fastify, { type FastifyInstance } from 'fastify';
import { serializerCompiler, validatorCompiler } from 'fastify-type-provider-zod';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  createHttpApp,
  FakeClock,
  readSendEngagement,
  trackingSecret,
  type ChannelAdapter,
  type DeliveryResult,
  type Engine,
  type RenderedMessage,
} from '../../engine/index.js';
import { trackingRoutes } from '../../engine/http/routes/tracking-routes.js';
import { smsSegments } from '../../engine/messages/sms-segments.js';
import { scanKeys } from '../../engine/redis/scan-keys.js';
import { customerKeys } from '../../engine/store/customer-keys.js';
import { shortLinkKey } from '../../engine/tracking/short-links.js';
import { adaJob, engineWithAda, startTestDeliveryWorker } from '../support/delivery-worker.js';
import { eventually, testConnection, testRedis } from '../support/redis.js';

const PUBLIC_URL = 'https://chorus.test';
const UNSUBSCRIBE_SECRET = 'test-secret-of-sixteen';
const SHORT = /https:\/\/chorus\.test\/t\/s\/([0-9A-Za-z]{12})\b/g;
const DAY = 86_400_000;

type Sms = Extract<RenderedMessage, { channel: 'sms' }>;

/** An SMS provider keeping every text it was handed; it answers each from `answers`, then `sent`. */
function recordingSms(texts: Sms[], answers: DeliveryResult[] = []): ChannelAdapter {
  return {
    channel: 'sms',
    provider: 'twilio',
    idempotent: true,
    resendOnce: true,
    send: async (delivery) => {
      texts.push(delivery.rendered as Sms);
      return answers.shift() ?? { status: 'sent', providerId: `SM-${texts.length}` };
    },
  };
}

const idsIn = (body: string) => [...body.matchAll(SHORT)].map((m) => m[1]!);

describe('short links in tracked SMS', () => {
  let ctx: ReturnType<typeof testRedis>;
  let engine: Engine;
  let app: FastifyInstance;
  const workers: Worker[] = [];
  const clock = new FakeClock(Date.parse('2026-03-02T09:00:00Z'));

  beforeEach(async () => {
    ctx = testRedis();
    engine = await engineWithAda(ctx);
    app = await createHttpApp({
      engine,
      redis: ctx.redis,
      apiKeys: ['tracking-test-key-0123456789'],
      dashboard: { user: 'ops', password: 'dashboard-secret', write: false },
      unsubscribeSecret: UNSUBSCRIBE_SECRET,
      clock,
    });
  });

  afterEach(async () => {
    for (const worker of workers.splice(0)) await worker.close(true);
    await app.close();
    await engine.close();
    await ctx.cleanup();
  });

  /** Sends Ada's SMS (tracked unless `tracked` is false) and returns every text the provider got. */
  async function sendSms(options: { tracked?: boolean; answers?: DeliveryResult[]; opId?: string } = {}) {
    const texts: Sms[] = [];
    const tracking = { baseUrl: PUBLIC_URL, secret: trackingSecret(UNSUBSCRIBE_SECRET) };
    const worker = startTestDeliveryWorker(engine, ctx.redis, 'sms', {
      clock,
      adapters: { sms: recordingSms(texts, options.answers) },
      ...(options.tracked === false ? {} : { tracking }),
    });
    workers.push(worker);
    const job = { ...adaJob('sms', clock.now()), ...(options.opId ? { opId: options.opId } : {}) };
    await engine.queues.deliveries.sms.add(job.message, job, { jobId: job.opId, attempts: 3 });
    await eventually(async () => {
      const message = (await engine.customer('ada')).messages.find((m) => m.opId === job.opId);
      return message?.status === 'sent';
    });
    await worker.close();
    return { texts, opId: job.opId };
  }

  it('sends the tracked link as a short link, so the text takes no more parts than untracked', async () => {
    const { texts: plain } = await sendSms({ tracked: false, opId: 's-ada-ping-sms-plain' });
    const { texts, opId } = await sendSms();
    const sms = texts[0]!;
    expect(sms.body).not.toContain('/t/c/');
    expect(idsIn(sms.body)).toHaveLength(1);
    expect(sms.segments).toBe(smsSegments(sms.body).segments);
    expect(sms.segments).toBeLessThanOrEqual(plain[0]!.segments);
    // Its clicks can be seen: the report rates them, as it does a tracked link's.
    const entries = (await engine.customer('ada')).messages;
    expect(entries.find((m) => m.opId === 's-ada-ping-sms-plain')).toMatchObject({ untracked: ['clicks'] });
    expect(entries.find((m) => m.opId === opId)).not.toHaveProperty('untracked');
  });

  it('redirects the short link to the UTM-tagged URL and records the click as the tracked link would', async () => {
    const { texts, opId } = await sendSms();
    const [id] = idsIn(texts[0]!.body);
    const res = await app.inject(`/t/s/${id}`);
    expect(res.statusCode).toBe(302);
    expect(res.headers.location).toMatch(/^https:\/\/yuetea\.example\.com\/blends\?.*utm_medium=sms/);
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.headers['referrer-policy']).toBe('no-referrer');
    await eventually(async () => (await readSendEngagement(ctx.redis, ctx.prefix, 'ada')).has(opId));
    expect((await readSendEngagement(ctx.redis, ctx.prefix, 'ada')).get(opId)).toEqual({
      clickedAt: clock.now(),
      clicks: 1,
    });
  });

  it('gives a retried send the same short link, stored under one key', async () => {
    const { texts } = await sendSms({ answers: [{ status: 'retry', reason: 'provider busy', afterMs: 10 }] });
    expect(texts).toHaveLength(2);
    expect(texts[1]!.body).toBe(texts[0]!.body);
    expect(await scanKeys(ctx.redis, `${ctx.prefix}:sl:*`)).toEqual([
      shortLinkKey(ctx.prefix, idsIn(texts[0]!.body)[0]!),
    ]);
    expect(await ctx.redis.zcard(customerKeys(ctx.prefix, 'ada').shortLinks)).toBe(1);
  });

  it('stops leading on once the customer is erased', async () => {
    const { texts } = await sendSms();
    const [id] = idsIn(texts[0]!.body);
    await engine.erase('ada');
    expect(await scanKeys(ctx.redis, `${ctx.prefix}:sl:*`)).toEqual([]);
    expect(await ctx.redis.exists(customerKeys(ctx.prefix, 'ada').shortLinks)).toBe(0);
    const res = await app.inject(`/t/s/${id}`);
    expect(res.statusCode).toBe(400);
    expect(res.body).toContain('CHORUS_TRACKING_TOKEN_INVALID');
  });

  it('answers an unknown, malformed or expired id with the invalid-link page, never a redirect', async () => {
    const { texts } = await sendSms();
    const [id] = idsIn(texts[0]!.body);
    for (const path of ['/t/s/AAAAAAAAAAAA', '/t/s/x', `/t/s/${'z'.repeat(300)}`, '/t/s/%C3%A9t%C3%A9']) {
      const res = await app.inject(path);
      expect(res.statusCode, path).toBe(400);
      expect(res.headers.location, path).toBeUndefined();
      expect(res.body, path).toContain('<h1>This link is not valid</h1>');
    }
    clock.advance(365 * DAY);
    const expired = await app.inject(`/t/s/${id}`);
    expect(expired.statusCode).toBe(400);
    expect(expired.body).toContain('CHORUS_TRACKING_TOKEN_INVALID');
  });

  it('asks the person to try again, rather than calling the link broken, while Redis cannot be reached', async () => {
    const { texts } = await sendSms();
    const [id] = idsIn(texts[0]!.body);
    const lost = testConnection();
    await lost.ping();
    lost.disconnect();
    const alone = Fastify();
    alone.setValidatorCompiler(validatorCompiler);
    alone.setSerializerCompiler(serializerCompiler);
    const unreachable = { store: { redis: lost }, prefix: ctx.prefix } as unknown as Engine;
    await alone.register(trackingRoutes, {
      engine: unreachable,
      secrets: [trackingSecret(UNSUBSCRIBE_SECRET)],
      clock,
    });
    try {
      const res = await alone.inject(`/t/s/${id}`);
      expect(res.statusCode).toBe(503);
      expect(res.headers['retry-after']).toBe('30');
      expect(res.headers.location).toBeUndefined();
      expect(res.body).toContain('Please try again in a minute.');
    } finally {
      await alone.close();
    }
  });
});
