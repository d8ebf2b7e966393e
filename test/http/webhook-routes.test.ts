import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  ChannelConfigError,
  createEngine,
  customerKeys,
  createHttpApp,
  defineWebhookSource,
  generateWebhookSecret,
  webhookHeaders,
} from '../../engine/index.js';
import { onboarding } from '../fixtures/journeys/onboarding.js';
import { API_KEY, DASHBOARD, httpHarness, UNSUBSCRIBE_SECRET, type HttpHarness } from '../support/http.js';
import { testDelivery } from '../support/delivery.js';
import { testRedis } from '../support/redis.js';

const oldSecret = generateWebhookSecret();
const newSecret = generateWebhookSecret();

const shop = defineWebhookSource({
  id: 'shop',
  payload: z.object({
    type: z.enum(['order.paid', 'ping']),
    customer: z.object({ id: z.string() }).optional(),
    total: z.number().optional(),
  }),
  toTrack: (p) =>
    p.type === 'ping' || !p.customer
      ? undefined
      : { userId: p.customer.id, event: 'Order Completed', properties: { revenue: p.total } },
});

/** A source that keeps a payload's note whole in its event. */
const notes = defineWebhookSource({
  id: 'notes',
  payload: z.object({ customer: z.string(), note: z.string() }),
  toTrack: (p) => ({ userId: p.customer, event: 'Note Added', properties: { note: p.note } }),
});

describe('signed inbound webhooks', () => {
  let h: HttpHarness;
  beforeEach(async () => {
    h = await httpHarness({
      journeys: [onboarding],
      webhookSources: [shop, notes],
      webhookSecrets: { shop: [oldSecret, newSecret], notes: [newSecret] },
      workers: false,
    });
  });
  afterEach(() => h.close());

  const nowSeconds = () => Math.floor(h.clock.now() / 1000);
  const send = (body: string, headers: Record<string, string>, source = 'shop') =>
    h.app.inject({
      method: 'POST',
      url: `/v1/webhooks/${source}`,
      payload: body,
      headers: { 'content-type': 'application/json', ...headers },
    });
  const order = JSON.stringify({ type: 'order.paid', customer: { id: 'c-9' }, total: 42 });

  it('maps a signed payload to a track event, once per webhook-id', async () => {
    const headers = webhookHeaders(newSecret, 'msg_1', nowSeconds(), order);
    const first = await send(order, headers);
    expect(first.statusCode).toBe(202);
    expect(first.json()).toMatchObject({ duplicate: false, ignored: false });
    const again = await send(order, headers);
    expect(again.json()).toMatchObject({ duplicate: true });
    // Remembered for a week, not the day of a Segment call: senders retry for days.
    const eventId = first.json<{ eventId: string }>().eventId;
    const ttl = await h.redis.ttl(customerKeys(h.prefix, 'c-9').seen(eventId));
    expect(ttl).toBeGreaterThan(6 * 86_400);
    expect(ttl).toBeLessThanOrEqual(7 * 86_400);
    const customer = await h.engine.customer('c-9');
    expect(customer.pendingEvents).toBe(1);
    expect(customer.recentEvents[0]).toMatchObject({
      kind: 'track',
      name: 'Order Completed',
      properties: { revenue: 42 },
    });
  });

  it('holds the track call a payload is mapped to to MAX_CALL_BYTES, not the payload itself', async () => {
    // A whole order, most of which the source does not keep: its event is small.
    const large = JSON.stringify({ ...JSON.parse(order), lines: 'x'.repeat(40_000) });
    const kept = await send(large, webhookHeaders(newSecret, 'msg_large', nowSeconds(), large));
    expect(kept.statusCode).toBe(202);
    expect((await h.engine.customer('c-9')).recentEvents).toHaveLength(1);
    const note = JSON.stringify({ customer: 'n-1', note: 'x'.repeat(40_000) });
    const refused = await send(note, webhookHeaders(newSecret, 'msg_note', nowSeconds(), note), 'notes');
    expect(refused.statusCode).toBe(400);
    expect(refused.json()).toMatchObject({
      error: {
        code: 'CHORUS_INVALID_INPUT',
        message: expect.stringMatching(
          /^Invalid track call that webhook source "notes" made of this payload \(its toTrack\): \(root\): is \d+ bytes as JSON, more than the 32768/,
        ),
      },
    });
    expect(await h.engine.customer('n-1')).toMatchObject({ pendingEvents: 0, recentEvents: [] });
  });

  it('accepts a key being rotated out (old secret) and ignores payloads that map to nothing', async () => {
    const res = await send(order, webhookHeaders(oldSecret, 'msg_2', nowSeconds(), order));
    expect(res.statusCode).toBe(202);
    const ping = JSON.stringify({ type: 'ping' });
    const pinged = await send(ping, webhookHeaders(newSecret, 'msg_3', nowSeconds(), ping));
    expect(pinged.json()).toMatchObject({ ignored: true });
  });

  it('takes a webhook from a Svix-powered sender, whose headers are svix-id, svix-timestamp and svix-signature', async () => {
    const signed = webhookHeaders(newSecret, 'msg_svix_1', nowSeconds(), order);
    const svix = {
      'svix-id': signed['webhook-id'],
      'svix-timestamp': signed['webhook-timestamp'],
      'svix-signature': signed['webhook-signature'],
    };
    const first = await send(order, svix);
    expect(first.statusCode).toBe(202);
    expect(first.json()).toMatchObject({ duplicate: false, ignored: false });
    // The same message under the Standard Webhooks names is the same event.
    expect((await send(order, signed)).json()).toMatchObject({ duplicate: true });
    expect((await send(order.replace('42', '4200'), svix)).statusCode).toBe(401);
    expect((await h.engine.customer('c-9')).pendingEvents).toBe(1);
  });

  it('refuses a tampered body, a stale timestamp, an unknown key and missing headers with 401', async () => {
    const headers = webhookHeaders(newSecret, 'msg_4', nowSeconds(), order);
    const tampered = await send(order.replace('42', '4200'), headers);
    expect(tampered.statusCode).toBe(401);
    expect(tampered.json()).toMatchObject({ error: { code: 'CHORUS_WEBHOOK_UNVERIFIED' } });
    const stale = await send(order, webhookHeaders(newSecret, 'msg_5', nowSeconds() - 301, order));
    expect(stale.statusCode).toBe(401);
    expect(stale.json<{ error: { message: string } }>().error.message).toMatch(/tolerance/);
    const otherKey = await send(order, webhookHeaders(generateWebhookSecret(), 'msg_6', nowSeconds(), order));
    expect(otherKey.statusCode).toBe(401);
    const unsigned = await send(order, {});
    expect(unsigned.statusCode).toBe(401);
    // Each 401 names the scheme it takes and the source's protection space (RFC 9110 §11.6.1).
    for (const refused of [tampered, stale, otherKey, unsigned])
      expect(refused.headers['www-authenticate']).toBe('Standard-Webhooks realm="webhooks/shop"');
    expect(await h.redis.keys(`${h.prefix}:c:*`)).toEqual([]);
  });

  it('answers 400 for a signed payload of the wrong shape, and 404 for an unknown source', async () => {
    const wrong = JSON.stringify({ type: 'refund' });
    const res = await send(wrong, webhookHeaders(newSecret, 'msg_7', nowSeconds(), wrong));
    expect(res.statusCode).toBe(400);
    expect(res.json<{ error: { issues: Array<{ field: string }> } }>().error.issues[0]?.field).toBe(
      'body.type',
    );
    expect((await send(order, {}, 'nope')).statusCode).toBe(404);
  });

  it('answers 400 naming the source when its mapping makes a call the engine refuses', async () => {
    // The source's schema takes an empty customer id; the track call made from it has no user.
    const empty = JSON.stringify({ type: 'order.paid', customer: { id: '' }, total: 1 });
    const res = await send(empty, webhookHeaders(newSecret, 'msg_8', nowSeconds(), empty));
    expect(res.statusCode).toBe(400);
    const { error } = res.json<{ error: { message: string; issues: Array<{ field: string }> } }>();
    expect(error.message).toContain('webhook source "shop"');
    expect(error.issues.map((i) => i.field)).toEqual(['userId']);
    expect(await h.redis.keys(`${h.prefix}:c:*`)).toEqual([]);
  });
});

describe('the webhook sources in journeys/', () => {
  it('are found by the folder loader, and the shop maps paid orders only', async () => {
    const { loadJourneyFolder } = await import('../../engine/index.js');
    const folder = await loadJourneyFolder('journeys');
    const source = folder.webhookSources.find((s) => s.id === 'shop');
    expect(source).toBeDefined();
    const paid = source!.payload.parse({
      type: 'order.paid',
      data: { customerId: 'c1', orderId: 'o1', total: 12.5 },
    });
    expect(source!.toTrack(paid)).toEqual({
      userId: 'c1',
      event: 'Order Completed',
      properties: { orderId: 'o1', revenue: 12.5 },
    });
    expect(
      source!.toTrack(
        source!.payload.parse({ type: 'order.created', data: { customerId: 'c1', orderId: 'o1' } }),
      ),
    ).toBeUndefined();
  });
});

describe("the shop's webhooks over HTTP", () => {
  const secret = generateWebhookSecret();
  let h: HttpHarness;
  beforeEach(async () => {
    const { loadJourneyFolder } = await import('../../engine/index.js');
    const folder = await loadJourneyFolder('journeys');
    h = await httpHarness({
      journeys: [onboarding],
      webhookSources: folder.webhookSources,
      webhookSecrets: { shop: [secret] },
      workers: false,
    });
  });
  afterEach(() => h.close());

  let sent = 0;
  const deliver = (payload: unknown) => {
    const body = JSON.stringify(payload);
    const headers = webhookHeaders(secret, `msg_${++sent}`, Math.floor(h.clock.now() / 1000), body);
    return h.app.inject({
      method: 'POST',
      url: '/v1/webhooks/shop',
      payload: body,
      headers: { 'content-type': 'application/json', ...headers },
    });
  };

  it('acknowledges and ignores every type but a paid order, whatever its data, so the shop does not send it again', async () => {
    // Refused with a 4xx, a Standard Webhooks sender retries for days, then may turn the endpoint off.
    for (const other of [
      { type: 'customer.created', data: { customerId: 'c1', email: 'c1@example.com' } },
      { type: 'ping' },
      { type: 'order.refunded', data: { customerId: 'c1', orderId: 'o1', total: '12.50' } },
    ]) {
      const res = await deliver(other);
      expect(res.statusCode, other.type).toBe(202);
      expect(res.json(), other.type).toMatchObject({ ignored: true });
    }
    expect(await h.redis.keys(`${h.prefix}:c:*`)).toEqual([]);

    // A paid order is still checked: one the journeys could not use is refused, naming the field.
    const incomplete = await deliver({ type: 'order.paid', data: { customerId: 'c1' } });
    expect(incomplete.statusCode).toBe(400);
    expect(incomplete.json()).toMatchObject({ error: { issues: [{ field: 'body.data.orderId' }] } });
    const paid = await deliver({
      type: 'order.paid',
      data: { customerId: 'c1', orderId: 'o1', total: 12.5 },
    });
    expect(paid.statusCode).toBe(202);
    expect(paid.json()).toMatchObject({ duplicate: false, ignored: false });
    expect((await h.engine.customer('c1')).recentEvents).toEqual([
      expect.objectContaining({ name: 'Order Completed', properties: { orderId: 'o1', revenue: 12.5 } }),
    ]);
  });
});

describe('an app given a webhook source secret that is not base64', () => {
  it('is not built, naming the source, rather than answering 500 to every webhook from it', async () => {
    const ctx = testRedis();
    const outbox = testDelivery(ctx.redis, ctx.prefix, [onboarding]);
    const engine = createEngine({
      redis: ctx.redis,
      prefix: ctx.prefix,
      journeys: [onboarding],
      messages: outbox.messages,
    });
    try {
      const build = createHttpApp({
        engine,
        redis: ctx.redis,
        apiKeys: [API_KEY],
        dashboard: { ...DASHBOARD, write: false },
        unsubscribeSecret: UNSUBSCRIBE_SECRET,
        webhookSources: [shop],
        // Cut short by one character when copied: before, every webhook to /v1/webhooks/shop got a 500.
        webhookSecrets: { shop: [newSecret, newSecret.slice(0, -1)] },
      });
      await expect(build).rejects.toThrow(ChannelConfigError);
      await expect(build).rejects.toThrow(
        /Secret 2 of webhook source "shop" is not `whsec_` followed by base64/,
      );
    } finally {
      await engine.close();
      outbox.cleanup();
      await ctx.cleanup();
    }
  });
});
