import type { FastifyInstance } from 'fastify';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  buildJourneyReport,
  createEmailAdapter,
  createHttpApp,
  trackingSecret,
  type Engine,
  type LinkTracking,
} from '../../engine/index.js';
import { notify } from '../fixtures/journeys/notify.js';
import { deliveryEngine, TEST_MAIL_FROM } from '../support/delivery.js';
import { eventually, testRedis } from '../support/redis.js';
import { startSmtpSink, type SmtpSink } from '../support/smtp-sink.js';

const PUBLIC_URL = 'https://chorus.test';
const UNSUBSCRIBE_SECRET = 'test-secret-of-sixteen';
const DAY = 86_400_000;

describe('open and click rates of sends made with tracking turned off', () => {
  let sink: SmtpSink;
  let ctx: ReturnType<typeof testRedis>;
  const closing: Array<() => Promise<unknown>> = [];

  beforeAll(async () => {
    sink = await startSmtpSink();
  });
  afterAll(() => sink.close());
  beforeEach(() => {
    ctx = testRedis();
  });
  afterEach(async () => {
    for (const close of closing.splice(0).reverse()) await close();
    await ctx.cleanup();
    sink.reset();
  });

  /** Emails the nudge to `userId` through an engine with the given tracking (none when undefined). */
  async function sendWith(tracking: Partial<LinkTracking> | undefined, userId: string): Promise<Engine> {
    const engine = deliveryEngine(ctx, [notify], {
      adapters: { email: createEmailAdapter({ from: TEST_MAIL_FROM, smtpUrl: sink.url }) },
      unsubscribe: { baseUrl: PUBLIC_URL, secret: UNSUBSCRIBE_SECRET },
      ...(tracking
        ? { tracking: { baseUrl: PUBLIC_URL, secret: trackingSecret(UNSUBSCRIBE_SECRET), ...tracking } }
        : {}),
    });
    closing.push(() => engine.close());
    engine.startWorkers();
    const before = sink.received.length;
    await engine.identify({ userId, traits: { email: `${userId}@example.com` } });
    await engine.track({ userId, event: 'Notify' });
    await eventually(async () => sink.received.length === before + 1, 10_000, 'the email');
    // The outcome is recorded after the provider took the mail.
    await eventually(async () => {
      const stored = await engine.customer(userId);
      return stored.messages.some((m) => m.status === 'sent');
    });
    await engine.close();
    return engine;
  }

  async function app(engine: Engine): Promise<FastifyInstance> {
    const created = await createHttpApp({
      engine,
      redis: ctx.redis,
      apiKeys: ['tracking-test-key-0123456789'],
      dashboard: { user: 'ops', password: 'dashboard-secret', write: false },
      unsubscribeSecret: UNSUBSCRIBE_SECRET,
    });
    closing.push(() => created.close());
    return created;
  }

  const report = () => {
    const now = Date.now();
    return buildJourneyReport({
      redis: ctx.redis,
      prefix: ctx.prefix,
      journey: notify,
      from: now - DAY,
      to: now + 1,
      now,
    });
  };

  it('has no open rate, rather than 0%, for emails sent without the open pixel', async () => {
    await sendWith({ opens: false }, 'ada');
    const { messages, channels } = await report();
    expect(messages.nudge).toMatchObject({ sent: 1, opened: 0, openRate: null, clickRate: 0 });
    expect(channels.email).toMatchObject({ sent: 1, openRate: null, clickRate: 0 });
  });

  it('has no click rate, rather than 0%, for sends made without tracked links', async () => {
    await sendWith({ links: false }, 'ada');
    const { messages } = await report();
    expect(messages.nudge).toMatchObject({ sent: 1, openRate: 0, clickRate: null });
  });

  it('has neither rate for sends made with no tracking configured at all', async () => {
    await sendWith(undefined, 'ada');
    const { messages } = await report();
    expect(messages.nudge).toMatchObject({ sent: 1, openRate: null, clickRate: null });
  });

  it('rates opens over the emails that carried a pixel when only some did', async () => {
    await sendWith({ opens: false }, 'ada');
    const engine = await sendWith({}, 'bob');
    const html = String(sink.received.at(-1)!.html);
    const pixel = /https:\/\/chorus\.test(\/t\/o\/[A-Za-z0-9_.-]+)/.exec(html)![1]!;
    expect((await (await app(engine)).inject({ method: 'GET', url: pixel })).statusCode).toBe(200);
    const { messages } = await report();
    // Bob opened the one email that could show an open: 100%, not 50%.
    expect(messages.nudge).toMatchObject({ sent: 2, opened: 1, openRate: 1 });
  });

  it('shows on the message entry which of its opens and clicks could not be seen', async () => {
    const engine = await sendWith({ opens: false }, 'ada');
    const [entry] = (await engine.customer('ada')).messages;
    expect(entry).toMatchObject({ status: 'sent', untracked: ['opens'] });
  });
});
