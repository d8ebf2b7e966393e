import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateWebhookSecret, webhookHeaders } from '../../engine/index.js';
import { TEST_REDIS_URL, testRedis } from '../support/redis.js';
import { faultRun, postJson, sleep, type FaultRun } from './support/fault-run.js';
import { startFaultSmtp, type FaultSmtp } from './support/fault-smtp.js';

const SECRET = generateWebhookSecret();
const COPIES = 10;

describe('the same signed webhook delivered ten times concurrently, and replayed too late', () => {
  const ctx = testRedis();
  let smtp: FaultSmtp;
  let run: FaultRun;
  let url = '';

  beforeAll(async () => {
    smtp = await startFaultSmtp();
    run = faultRun({
      redisUrl: TEST_REDIS_URL,
      prefix: ctx.prefix,
      smtp,
      env: { WEBHOOK_SOURCE_SECRETS: `shop=${SECRET}` },
    });
    ({ url } = await run.startApi());
    run.startWorker();
  }, 60_000);
  afterAll(async () => {
    await run.close();
    await smtp.close();
    await ctx.cleanup();
  });

  const deliver = (body: string, headers: Record<string, string>) =>
    fetch(`${url}/v1/webhooks/shop`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body,
    });
  const order = (customerId: string, orderId: string) =>
    JSON.stringify({ type: 'order.paid', data: { customerId, orderId } });
  const nowSeconds = () => Math.floor(Date.now() / 1000);

  it('applies the event once and sends one email for ten concurrent copies', async () => {
    const identified = await postJson(`${url}/v1/identify`, {
      userId: 'buyer',
      traits: { email: 'buyer@example.com' },
    });
    expect(identified.status).toBe(200);
    const body = order('buyer', 'o-1');
    const headers = { ...webhookHeaders(SECRET, 'msg_order_1', nowSeconds(), body) };
    const answers = await Promise.all(
      Array.from({ length: COPIES }, async () => {
        const response = await deliver(body, headers);
        return { status: response.status, body: (await response.json()) as { duplicate?: boolean } };
      }),
    );
    expect(answers.map((a) => a.status)).toEqual(Array(COPIES).fill(202));
    expect(answers.filter((a) => a.body.duplicate === false)).toHaveLength(1);
    expect(answers.filter((a) => a.body.duplicate === true)).toHaveLength(COPIES - 1);

    for (;;) {
      const customer = await run.reader.customer('buyer');
      if (customer.messages.some((m) => m.status === 'sent') && customer.pendingEvents === 0) break;
      await sleep(50);
    }
    // Time for a wrongly applied copy to show, were there one.
    await sleep(1_000);
    const customer = await run.reader.customer('buyer');
    expect(customer.instances.map((i) => [i.journeyId, i.status])).toEqual([['receipt', 'done']]);
    expect(customer.recentEvents.filter((e) => e.kind === 'track')).toHaveLength(1);
    expect(customer.messages.map((m) => [m.message, m.status])).toEqual([['thank-you', 'sent']]);
    expect(smtp.accepted.filter((m) => m.to.includes('buyer@example.com'))).toHaveLength(1);
  }, 60_000);

  it('refuses a replay outside the tolerance window with 401 naming why, and enqueues nothing', async () => {
    const identified = await postJson(`${url}/v1/identify`, {
      userId: 'late',
      traits: { email: 'late@example.com' },
    });
    expect(identified.status).toBe(200);
    const before = await run.reader.customer('late');
    const body = order('late', 'o-2');
    // The same delivery, correctly signed, but stamped ten minutes ago (the tolerance is five).
    for (const id of ['msg_order_1', 'msg_order_2']) {
      const replay = await deliver(body, { ...webhookHeaders(SECRET, id, nowSeconds() - 600, body) });
      expect(replay.status).toBe(401);
      const error = ((await replay.json()) as { error: { code: string; message: string } }).error;
      expect(error.code).toBe('CHORUS_WEBHOOK_UNVERIFIED');
      expect(error.message).toMatch(/tolerance/);
    }
    await sleep(1_000);
    const after = await run.reader.customer('late');
    expect(after.recentEvents).toEqual(before.recentEvents);
    expect(after.pendingEvents).toBe(0);
    expect(after.instances).toEqual([]);
    expect(after.messages).toEqual([]);
    expect(smtp.accepted.filter((m) => m.to.includes('late@example.com'))).toEqual([]);
  }, 60_000);
});
