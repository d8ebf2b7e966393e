import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import {
  createEmailAdapter,
  createHttpApp,
  createUnsubscribeToken,
  FakeClock,
  type Engine,
} from '../../engine/index.js';
import { notify } from '../fixtures/journeys/notify.js';
import { deliveryEngine, TEST_MAIL_FROM } from '../support/delivery.js';
import { eventually, testRedis } from '../support/redis.js';
import { startSmtpSink, type SmtpSink } from '../support/smtp-sink.js';

const SECRET = 'test-secret-of-sixteen';
const API_KEY = 'test-key-0123456789abcdef';

describe('an unsubscribe that arrives while a send waits in the queue', () => {
  let sink: SmtpSink;
  let ctx: ReturnType<typeof testRedis>;
  let engine: Engine;
  let app: FastifyInstance;
  const clock = new FakeClock(Date.parse('2026-11-23T10:00:00Z'));

  beforeEach(async () => {
    sink = await startSmtpSink();
    ctx = testRedis();
    engine = deliveryEngine(
      ctx,
      [notify],
      {
        adapters: { email: createEmailAdapter({ from: TEST_MAIL_FROM, smtpUrl: sink.url }) },
        unsubscribe: { baseUrl: 'https://chorus.test', secret: SECRET },
      },
      { clock },
    );
    app = await createHttpApp({
      engine,
      redis: ctx.redis,
      apiKeys: [API_KEY],
      dashboard: { user: 'ops', password: 'dashboard-secret', write: false },
      unsubscribeSecret: SECRET,
      clock,
    });
    await app.ready();
  });

  afterEach(async () => {
    await app.close();
    await engine.close();
    await ctx.cleanup();
    await sink.close();
  });

  it('is honoured at send time: the queued email does not go out, and the customer shows why', async () => {
    // Journeys run, deliveries do not yet: each Notify leaves an email send waiting in its queue.
    engine.startWorkers({ deliveries: false });
    for (const userId of ['ada', 'bob']) {
      await engine.identify({ userId, traits: { email: `${userId}@example.com`, firstName: userId } });
      await engine.track({ userId, event: 'Notify' });
    }
    await eventually(async () => (await engine.queues.deliveries.email.getWaitingCount()) === 2);
    expect((await engine.customer('ada')).profile.email).toBe('ada@example.com');

    const token = createUnsubscribeToken(SECRET, {
      customerId: 'ada',
      topic: 'marketing',
      exp: clock.now() + 86_400_000,
    });
    const unsubscribed = await app.inject({
      method: 'POST',
      url: `/v1/unsubscribe?token=${encodeURIComponent(token)}`,
      payload: 'List-Unsubscribe=One-Click',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    expect(unsubscribed.statusCode).toBe(200);

    engine.startWorkers({ journeys: false });
    const statusOf = async (userId: string) => (await engine.customer(userId)).messages[0]?.status;
    await eventually(async () => (await statusOf('bob')) === 'sent' && (await statusOf('ada')) === 'skipped');

    // Bob's email proves the worker and the SMTP server were up; Ada's never reached them.
    expect(sink.attempts.map((mail) => (mail.to && 'text' in mail.to ? mail.to.text : ''))).toEqual([
      'bob@example.com',
    ]);
    const customer = await app.inject({
      url: '/v1/customers/ada',
      headers: { authorization: `Bearer ${API_KEY}` },
    });
    expect(customer.json().messages).toEqual([
      expect.objectContaining({
        message: 'nudge',
        channel: 'email',
        status: 'skipped',
        rule: 'suppression',
        reason:
          'the email address is suppressed (unsubscribe at 2026-11-23T10:00:00.000Z, one-click unsubscribe); no further channel in [email, sms]',
      }),
    ]);
    expect(customer.json().consent).toEqual([
      {
        channel: 'email',
        topic: 'marketing',
        state: 'denied',
        at: clock.now(),
        source: 'one-click unsubscribe',
      },
    ]);
    expect((await engine.customer('ada')).recentEvents[0]).toMatchObject({
      kind: 'track',
      name: 'Unsubscribed',
    });
  });
});
