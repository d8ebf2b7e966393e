import type { FastifyInstance } from 'fastify';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  createEmailAdapter,
  createHttpApp,
  MessageRenderer,
  readDailyCounts,
  trackingSecret,
  type Engine,
} from '../../engine/index.js';
import { notify } from '../fixtures/journeys/notify.js';
import { deliveryEngine, TEST_MAIL_FROM } from '../support/delivery.js';
import { TemplateSet } from '../../engine/messages/template-set.js';
import { eventually, testRedis } from '../support/redis.js';
import { startSmtpSink, type SmtpSink } from '../support/smtp-sink.js';

const PUBLIC_URL = 'https://chorus.test';
const UNSUBSCRIBE_SECRET = 'test-secret-of-sixteen';
const API_KEY = 'tracking-test-key-0123456789';

/** The paths of every tracked link (`kind` c) or pixel (o) in a text, in order. */
function tracked(text: string, kind: 'c' | 'o'): string[] {
  return [...text.matchAll(new RegExp(`https://chorus\\.test(/t/${kind}/[A-Za-z0-9_.-]+)`, 'g'))].map(
    (m) => m[1]!,
  );
}

describe('tracking end to end: delivery worker, SMTP, tracked links over HTTP', () => {
  let sink: SmtpSink;
  let ctx: ReturnType<typeof testRedis>;
  let engine: Engine;
  let app: FastifyInstance;

  beforeAll(async () => {
    sink = await startSmtpSink();
  });
  afterAll(() => sink.close());

  beforeEach(async () => {
    ctx = testRedis();
    engine = deliveryEngine(ctx, [notify], {
      adapters: { email: createEmailAdapter({ from: TEST_MAIL_FROM, smtpUrl: sink.url }) },
      unsubscribe: { baseUrl: PUBLIC_URL, secret: UNSUBSCRIBE_SECRET },
      tracking: { baseUrl: PUBLIC_URL, secret: trackingSecret(UNSUBSCRIBE_SECRET) },
    });
    engine.startWorkers();
    app = await createHttpApp({
      engine,
      redis: ctx.redis,
      apiKeys: [API_KEY],
      dashboard: { user: 'ops', password: 'dashboard-secret', write: false },
      unsubscribeSecret: UNSUBSCRIBE_SECRET,
    });
  });

  afterEach(async () => {
    await app.close();
    await engine.close();
    await ctx.cleanup();
    sink.reset();
  });

  const today = () =>
    readDailyCounts(ctx.redis, ctx.prefix, { journeyId: 'notify', from: Date.now(), to: Date.now() });

  it('sends tracked links that redirect to the UTM-tagged URL and records open and click', async () => {
    await engine.identify({ userId: 'ada', traits: { email: 'ada@example.com', firstName: 'Ada' } });
    await engine.track({ userId: 'ada', event: 'Notify' });
    await eventually(async () => sink.received.length === 1, 10_000, 'the email');
    const mail = sink.received[0]!;
    const html = String(mail.html);

    const links = tracked(html, 'c');
    expect(links.length).toBeGreaterThan(0);
    expect(tracked(mail.text ?? '', 'c').length).toBeGreaterThan(0);
    expect(html).not.toMatch(/href="https:\/\/(?!chorus\.test)/);
    expect(html).toContain('https://chorus.test/v1/unsubscribe?token=');
    const [pixel] = tracked(html, 'o');
    expect(html.indexOf(pixel!)).toBeLessThan(html.lastIndexOf('</body>'));

    const res = await app.inject({ method: 'GET', url: links[0]! });
    expect(res.statusCode).toBe(302);
    const location = new URL(String(res.headers.location));
    expect(location.origin).not.toBe(PUBLIC_URL);
    expect(location.searchParams.get('utm_medium')).toBe('email');
    expect(location.searchParams.get('utm_campaign')).toBe('notify');
    expect(location.searchParams.get('utm_content')).toBe('nudge-control');

    expect((await app.inject({ method: 'GET', url: pixel! })).statusCode).toBe(200);
    const customer = await app.inject({
      method: 'GET',
      url: '/v1/customers/ada',
      headers: { authorization: `Bearer ${API_KEY}` },
    });
    const [entry] = customer.json().messages as Array<Record<string, unknown>>;
    expect(entry).toMatchObject({ status: 'sent', message: 'nudge', channel: 'email', clicks: 1 });
    expect(entry!.openedAt).toEqual(expect.any(Number));
    expect(entry!.clickedAt).toEqual(expect.any(Number));

    expect(await today()).toEqual([
      {
        day: new Date().toISOString().slice(0, 10),
        message: 'nudge',
        channel: 'email',
        variant: 'control',
        counts: { sent: 1, opened: 1, clicked: 1, clicks: 1 },
      },
    ]);
  });

  it('counts a refused send as failed, once', async () => {
    sink.answers = [550];
    await engine.identify({ userId: 'gone', traits: { email: 'gone@example.com' } });
    await engine.track({ userId: 'gone', event: 'Notify' });
    const rows = await eventually(async () => {
      const found = await today();
      return found[0]?.counts.failed === 1 ? found : undefined;
    });
    expect(rows[0]!.counts).toEqual({ failed: 1 });
    // BullMQ's failed event runs the worker's abandon path too: it must not count the send again.
    await eventually(async () => (await engine.queues.deliveries.email.getFailedCount()) === 1);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect((await today())[0]!.counts).toEqual({ failed: 1 });
  });

  it('sends a link a customer typed in as it is, while the brand’s links are tracked', async () => {
    // `nudge` of these templates renders the customer's website trait next to its CTA.
    const links = TemplateSet.fromDirectory('test/fixtures/templates-links');
    await app.close();
    await engine.close();
    engine = deliveryEngine(ctx, [notify], {
      adapters: { email: createEmailAdapter({ from: TEST_MAIL_FROM, smtpUrl: sink.url }) },
      renderer: new MessageRenderer(links),
      messages: { get: (id) => links.message(id) },
      unsubscribe: { baseUrl: PUBLIC_URL, secret: UNSUBSCRIBE_SECRET },
      tracking: { baseUrl: PUBLIC_URL, secret: trackingSecret(UNSUBSCRIBE_SECRET) },
    });
    engine.startWorkers();
    app = await createHttpApp({
      engine,
      redis: ctx.redis,
      apiKeys: [API_KEY],
      dashboard: { user: 'ops', password: 'dashboard-secret', write: false },
      unsubscribeSecret: UNSUBSCRIBE_SECRET,
    });
    const phish = 'https://evil.example/login';
    await engine.identify({ userId: 'mallory', traits: { email: 'mallory@example.com', website: phish } });
    await engine.track({ userId: 'mallory', event: 'Notify' });
    await eventually(async () => sink.received.length === 1, 10_000, 'the email');
    const html = String(sink.received[0]!.html);

    expect(html).toContain(`<a href="${phish}">${phish}</a>`);
    expect(sink.received[0]!.text).toContain(`Your site: ${phish}\n`);
    const hrefs = [...html.matchAll(/href="([^"]+)"/g)].map((m) => m[1]!);
    expect(hrefs.filter((href) => href.startsWith(`${PUBLIC_URL}/t/c/`))).toHaveLength(3);
    const [cta] = tracked(html, 'c');
    const res = await app.inject({ method: 'GET', url: cta! });
    expect(res.statusCode).toBe(302);
    expect(String(res.headers.location)).toMatch(/^https:\/\/shop\.example\.com\/start\?utm_source=chorus&/);
  });
});
