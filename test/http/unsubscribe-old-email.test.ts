import type { FastifyInstance } from 'fastify';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createEmailAdapter, createHttpApp, FakeClock, type Engine } from '../../engine/index.js';
import { notify } from '../fixtures/journeys/notify.js';
import { deliveryEngine, TEST_MAIL_FROM } from '../support/delivery.js';
import { eventually, testRedis } from '../support/redis.js';
import { header, startSmtpSink, type SmtpSink } from '../support/smtp-sink.js';

const PUBLIC_URL = 'https://chorus.test';
const UNSUBSCRIBE_SECRET = 'test-secret-of-sixteen';

describe('the unsubscribe link of an old email', () => {
  let sink: SmtpSink;
  let ctx: ReturnType<typeof testRedis>;
  let clock: FakeClock;
  let engine: Engine;
  let app: FastifyInstance;

  beforeAll(async () => {
    sink = await startSmtpSink();
  });
  afterAll(() => sink.close());

  beforeEach(async () => {
    ctx = testRedis();
    clock = new FakeClock(Date.now());
    engine = deliveryEngine(
      ctx,
      [notify],
      {
        adapters: { email: createEmailAdapter({ from: TEST_MAIL_FROM, smtpUrl: sink.url }) },
        unsubscribe: { baseUrl: PUBLIC_URL, secret: UNSUBSCRIBE_SECRET },
      },
      { clock },
    );
    engine.startWorkers();
    app = await createHttpApp({
      engine,
      redis: ctx.redis,
      apiKeys: ['unsubscribe-test-key-0123456789'],
      dashboard: { user: 'ops', password: 'dashboard-secret', write: false },
      unsubscribeSecret: UNSUBSCRIBE_SECRET,
      clock,
    });
  });

  afterEach(async () => {
    await app.close();
    await engine.close();
    await ctx.cleanup();
    sink.reset();
  });

  it('still unsubscribes when the mail client posts it a year after the email was sent', async () => {
    await engine.identify({ userId: 'ada', traits: { email: 'ada@example.com' } });
    await engine.track({ userId: 'ada', event: 'Notify' });
    await eventually(async () => sink.received.length === 1, 10_000, 'the email');
    const path = /^<https:\/\/chorus\.test(\/v1\/unsubscribe\?token=[^>]+)>/.exec(
      header(sink.received[0]!, 'list-unsubscribe') ?? '',
    )?.[1];
    expect(path, 'List-Unsubscribe').toBeDefined();

    // The person finds the email in their archive and presses their mail client's Unsubscribe.
    clock.advance('365d');
    const res = await app.inject({
      method: 'POST',
      url: path!,
      payload: 'List-Unsubscribe=One-Click',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ unsubscribed: true, topic: 'marketing' });
    expect(await engine.consent.store.get('ada', 'email', 'marketing')).toMatchObject({
      state: 'denied',
      at: clock.now(),
    });
  });
});
