import { spawn } from 'node:child_process';
import type { ParsedMail } from 'mailparser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { header, startSmtpSink, type SmtpSink } from '../support/smtp-sink.js';
import { eventually, TEST_REDIS_ENV, testRedis } from '../support/redis.js';
import { exited } from '../support/worker-process.js';

const API_KEY = 'lifecycle-proof-key-0123456789';
// A journey day lasts 0.1 s: the whole lifecycle, 30 days after the order included, in seconds.
const TIME_SCALE = 864_000;

/**
 * The product as a newcomer runs it: `npm start`'s entry point as a real process, a real SMTP
 * server and Redis, three shoppers posted over HTTP, and the exact emails each one receives.
 */
describe('the Yue Tea lifecycle through npm start', () => {
  const ctx = testRedis();
  let sink: SmtpSink;
  let child: ReturnType<typeof spawn>;
  let url = '';

  beforeAll(async () => {
    sink = await startSmtpSink();
    child = spawn(process.execPath, ['--import', 'tsx', 'workers/start.ts'], {
      env: {
        ...process.env,
        PORT: '0',
        ...TEST_REDIS_ENV,
        REDIS_PREFIX: ctx.prefix,
        SMTP_URL: sink.url,
        API_KEY,
        DASHBOARD_USER: 'ops',
        DASHBOARD_PASSWORD: 'proof-dashboard-password',
        PUBLIC_URL: 'https://chorus.example.com',
        TIME_SCALE: String(TIME_SCALE),
        LOG_LEVEL: 'info',
      },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let output = '';
    child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    url = await eventually(
      async () => /"api":"(http:\/\/[^"]+)"/.exec(output)?.[1],
      20_000,
      'the API to listen',
    );
  }, 30_000);

  afterAll(async () => {
    // Exited before the keys go: an engine still running would re-create some after the cleanup.
    child.kill('SIGKILL');
    await exited(child);
    await sink.close();
    await ctx.cleanup();
  });

  const batch = (calls: unknown[]) =>
    fetch(`${url}/v1/batch`, {
      method: 'POST',
      headers: { authorization: `Bearer ${API_KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({ batch: calls }),
    });
  const customer = async (userId: string) =>
    (await (
      await fetch(`${url}/v1/customers/${userId}`, { headers: { authorization: `Bearer ${API_KEY}` } })
    ).json()) as {
      journeys: Array<{ status: string; exitReason?: string }>;
    };
  const shopper = (userId: string, firstName: string) => [
    {
      type: 'identify',
      userId,
      traits: { firstName, email: `${userId}@example.com` },
      messageId: `${userId}-1`,
    },
    { type: 'track', userId, event: 'Signed Up', messageId: `${userId}-2` },
  ];
  const tea = { product_id: 'osmanthus-oolong', name: 'Osmanthus Oolong', price: 18 };
  const mailsTo = (userId: string): ParsedMail[] =>
    sink.received.filter((mail) => header(mail, 'to')?.includes(`${userId}@example.com`));

  it('sends each shopper exactly the emails of their path, once each, personalised and tracked', async () => {
    const response = await batch([
      // Views a tea and adds it to the cart, then never orders.
      ...shopper('cart', 'Mei'),
      { type: 'track', userId: 'cart', event: 'Product Viewed', properties: tea, messageId: 'cart-3' },
      { type: 'track', userId: 'cart', event: 'Product Added', properties: tea, messageId: 'cart-4' },
      // Views a tea and orders it.
      ...shopper('buyer', 'Lin'),
      { type: 'track', userId: 'buyer', event: 'Product Viewed', properties: tea, messageId: 'buyer-3' },
      {
        type: 'track',
        userId: 'buyer',
        event: 'Order Completed',
        properties: { order_id: 'o-1', revenue: 18 },
        messageId: 'buyer-4',
      },
      // Signs up and does nothing more.
      ...shopper('idle', 'Ada'),
    ]);
    expect(response.status).toBe(200);

    await eventually(
      async () => {
        const all = await Promise.all(['cart', 'buyer', 'idle'].map(customer));
        return all.every((c) => c.journeys.length === 1 && c.journeys[0]!.status === 'done')
          ? all
          : undefined;
      },
      30_000,
      'all three shoppers to finish the journey',
    );
    // Finished instances may still have their last email in the delivery queue.
    await eventually(async () => mailsTo('buyer').length >= 5, 10_000, 'the last email');

    // Sends made by one step go out side by side, so their arrival order is not fixed.
    const messages = (userId: string) =>
      mailsTo(userId)
        .map((mail) => String(header(mail, 'x-chorus-message')))
        .sort();
    expect(messages('cart')).toEqual(['cart-reminder', 'product-spotlight', 'welcome']);
    expect(messages('buyer')).toEqual([
      'product-spotlight',
      'replenish',
      'review-request',
      'thank-you',
      'welcome',
    ]);
    expect(messages('idle')).toEqual(['nudge', 'welcome']);
    expect((await customer('cart')).journeys[0]).toMatchObject({ exitReason: 'abandoned' });
    expect((await customer('buyer')).journeys[0]).toMatchObject({ exitReason: 'completed' });
    expect((await customer('idle')).journeys[0]).toMatchObject({ exitReason: 'lapsed' });

    // Each email once: distinct Message-IDs, nothing offered twice.
    const ids = sink.received.map((mail) => mail.messageId);
    expect(new Set(ids).size).toBe(10);
    expect(sink.attempts).toHaveLength(10);

    for (const [userId, name] of [
      ['cart', 'Mei'],
      ['buyer', 'Lin'],
      ['idle', 'Ada'],
    ] as const) {
      for (const mail of mailsTo(userId)) {
        const what = `${header(mail, 'x-chorus-message')} to ${userId}`;
        expect(mail.text, what).toBeTruthy();
        expect(header(mail, 'x-chorus-journey'), what).toBe('yue-tea-lifecycle');
        expect(header(mail, 'list-unsubscribe'), what).toMatch(
          /^<https:\/\/chorus\.example\.com\/v1\/unsubscribe\?token=/,
        );
        expect(header(mail, 'list-unsubscribe-post'), what).toBe('List-Unsubscribe=One-Click');
        // Links go out tracked: each redirects, through the running API, to the shop with its UTM parameters.
        expect(String(mail.html), what).not.toMatch(/href="https:\/\/yuetea/);
        const tracked = [
          ...String(mail.html).matchAll(/href="https:\/\/chorus\.example\.com(\/t\/c\/[^"]+)"/g),
        ];
        expect(tracked.length, what).toBeGreaterThan(0);
        for (const [, path] of tracked) {
          const redirect = await fetch(`${url}${path}`, { redirect: 'manual' });
          expect(redirect.status, what).toBe(302);
          const link = String(redirect.headers.get('location'));
          expect(link, what).toMatch(/^https:\/\/yuetea/);
          const params = new URL(link).searchParams;
          expect(params.get('utm_medium'), `${what}: ${link}`).toBe('email');
          expect(params.get('utm_campaign'), `${what}: ${link}`).toBe('yue-tea-lifecycle');
          expect(params.get('utm_content'), `${what}: ${link}`).toContain(
            String(header(mail, 'x-chorus-message')),
          );
        }
      }
      const welcome = mailsTo(userId).find((m) => header(m, 'x-chorus-message') === 'welcome')!;
      expect(String(welcome.html), `welcome to ${userId}`).toContain(name);
    }
    const spotlight = mailsTo('buyer').find((m) => header(m, 'x-chorus-message') === 'product-spotlight')!;
    expect(`${spotlight.subject} ${spotlight.text}`).toContain('Osmanthus Oolong');
    const reminder = mailsTo('cart').find((m) => header(m, 'x-chorus-message') === 'cart-reminder')!;
    expect(reminder.text).toContain('STEEP10');

    child.kill('SIGTERM');
    expect(await exited(child)).toEqual({ code: 0, signal: null });
  }, 60_000);
});
