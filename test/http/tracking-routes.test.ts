import Fastify from 'fastify';
import { serializerCompiler, validatorCompiler } from 'fastify-type-provider-zod';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { trackingRoutes } from '../../engine/http/routes/tracking-routes.js';
import {
  createTrackingToken,
  readDailyCounts,
  readSendEngagement,
  resolveRedis,
  trackingSecret,
  type TrackedSend,
} from '../../engine/index.js';
import { keysSharingTag } from '../../engine/redis/scan-keys.js';
import { sealToken } from '../../engine/signed-token.js';
import { trackRendered } from '../../engine/tracking/track-links.js';
import { customerKeys } from '../../engine/store/customer-keys.js';
import { httpHarness, UNSUBSCRIBE_SECRET, type HttpHarness } from '../support/http.js';
import { notify } from '../fixtures/journeys/notify.js';
import { eventually } from '../support/redis.js';

const send: TrackedSend = {
  opId: 'op-1',
  customerId: 'ada',
  journeyId: 'notify',
  message: 'nudge',
  channel: 'email',
  variant: 'control',
};
const target = 'https://example.com/blends?a=1&utm_source=chorus&utm_medium=email#top';

/**
 * A click token as signed before only links to the brand's hosts were tracked (version 1): any
 * URL a message held, a customer's own among them.
 */
function versionOneToken(secret: string, claim: TrackedSend & { url: string }): string {
  const { opId, customerId, journeyId, message, channel, variant, url } = claim;
  const fields = [1, 'c', opId, customerId, journeyId, message, channel, variant, url];
  return sealToken(secret, fields, { macBytes: 16 });
}

describe('tracked links signed before hosts were checked', () => {
  let h: HttpHarness;
  const secret = trackingSecret(UNSUBSCRIBE_SECRET);
  const brandHost = 'https://yuetea.example.com/blends?utm_source=chorus';

  beforeAll(async () => {
    h = await httpHarness({
      journeys: [notify],
      workers: false,
      brandLink: (message, url) => message === 'nudge' && new URL(url).hostname === 'yuetea.example.com',
    });
    await h.redis.hset(customerKeys(h.prefix, 'ada').state, 'rev', 1);
  });
  afterAll(() => h.close());

  it('still redirect to one of the message’s brand hosts', async () => {
    const res = await h.app.inject(`/t/c/${versionOneToken(secret, { ...send, url: brandHost })}`);
    expect(res.statusCode).toBe(302);
    expect(res.headers.location).toBe(brandHost);
  });

  it('show where they lead, rather than redirect, when that is another host', async () => {
    const url = 'https://evil.example/login?a=1&b="><script>alert(1)</script>';
    const res = await h.app.inject(`/t/c/${versionOneToken(secret, { ...send, url })}`);
    expect(res.statusCode).toBe(200);
    expect(res.headers.location).toBeUndefined();
    expect(res.headers['content-type']).toContain('text/html');
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.body).toContain('<h1>This link leads to evil.example</h1>');
    expect(res.body).toContain(
      '<a href="https://evil.example/login?a=1&#38;b=&#34;&#62;&#60;script&#62;alert(1)&#60;/script&#62;" rel="noreferrer nofollow">',
    );
    expect(res.body).not.toContain('<script>');
  });

  it('redirect when signed since, whatever the brand’s hosts are now: links already sent keep working', async () => {
    const url = 'https://partner.example/offer';
    const token = createTrackingToken(secret, { kind: 'click', ...send, url });
    const res = await h.app.inject(`/t/c/${token}`);
    expect(res.statusCode).toBe(302);
    expect(res.headers.location).toBe(url);
  });
});

describe('tracked links and the open pixel over HTTP', () => {
  let h: HttpHarness;
  const secret = trackingSecret(UNSUBSCRIBE_SECRET);
  const clickToken = createTrackingToken(secret, { kind: 'click', ...send, url: target });
  const openToken = createTrackingToken(secret, { kind: 'open', ...send });

  beforeAll(async () => {
    h = await httpHarness({ journeys: [notify], workers: false });
    // Opens and clicks are recorded for customers the engine knows: as a journey step leaves them.
    for (const customerId of ['ada', 'bo'])
      await h.redis.hset(customerKeys(h.prefix, customerId).state, 'rev', 1);
  });
  afterAll(() => h.close());

  const today = () =>
    readDailyCounts(h.redis, h.prefix, { journeyId: 'notify', from: h.clock.now(), to: h.clock.now() });

  it('redirects a signed link to exactly its URL, uncached, and records the click', async () => {
    const res = await h.app.inject({ method: 'GET', url: `/t/c/${clickToken}` });
    expect(res.statusCode).toBe(302);
    expect(res.headers.location).toBe(target);
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.headers['referrer-policy']).toBe('no-referrer');
    await h.app.inject({ method: 'GET', url: `/t/c/${clickToken}` });
    const head = await h.app.inject({ method: 'HEAD', url: `/t/c/${clickToken}` });
    expect(head.statusCode).toBe(302);
    expect((await readSendEngagement(h.redis, h.prefix, 'ada')).get('op-1')).toEqual({
      clickedAt: h.clock.now(),
      clicks: 2,
    });
    expect((await today())[0]!.counts).toMatchObject({ clicked: 1, clicks: 2 });
  });

  it('shows where a link signed before hosts were checked leads, with no brand hosts given', async () => {
    const url = 'https://yuetea.example.com/blends';
    // A customer the engine does not know: the click is not recorded, and the counts stay Ada's.
    const res = await h.app.inject(`/t/c/${versionOneToken(secret, { ...send, customerId: 'nobody', url })}`);
    expect(res.statusCode).toBe(200);
    expect(res.headers.location).toBeUndefined();
    expect(res.body).toContain(`<a href="${url}" rel="noreferrer nofollow">`);
  });

  it('redirects to a URL with spaces or Unicode as a browser would follow it, encoded', async () => {
    for (const [url, expected] of [
      ['https://example.com/a b?q=x y', 'https://example.com/a%20b?q=x%20y'],
      ['https://例え.jp/お茶', 'https://xn--r8jz45g.jp/%E3%81%8A%E8%8C%B6'],
    ]) {
      const token = createTrackingToken(secret, { kind: 'click', ...send, customerId: 'bo', url: url! });
      const res = await h.app.inject({ method: 'GET', url: `/t/c/${token}` });
      expect(res.statusCode, url).toBe(302);
      expect(res.headers.location, url).toBe(expected);
    }
  });

  it('never redirects a tampered, truncated, unsigned or foreign token', async () => {
    const [payload, signature] = clickToken.split('.') as [string, string];
    const elsewhere = createTrackingToken(secret, { kind: 'click', ...send, url: 'https://evil.example/' });
    const foreign = createTrackingToken(trackingSecret('another-secret-sixteen'), {
      kind: 'click',
      ...send,
      url: 'https://evil.example/',
    });
    const tampered = [
      `${elsewhere.split('.')[0]}.${signature}`,
      clickToken.slice(0, -3),
      clickToken.slice(0, 60),
      payload,
      `${payload}.`,
      foreign,
      openToken,
      'https://evil.example/',
      '',
    ];
    for (const token of tampered) {
      const res = await h.app.inject({ method: 'GET', url: `/t/c/${token}` });
      expect(res.statusCode, token).toBeGreaterThanOrEqual(400);
      expect(res.statusCode, token).toBeLessThan(500);
      expect(res.headers.location, token).toBeUndefined();
    }
    const page = await h.app.inject({ method: 'GET', url: `/t/c/${foreign}` });
    expect(page.statusCode).toBe(400);
    expect(page.headers['content-type']).toContain('text/html');
    expect(page.body).toContain('CHORUS_TRACKING_TOKEN_INVALID');
  });

  it('takes a person to a very long URL from a push, tracked when it fits a token and as it is when not', async () => {
    const base = 'https://chorus.test';
    for (const length of [5_000, 7_000, 20_000]) {
      const url = `https://example.com/deep?state=${'x'.repeat(length)}`;
      const push = { channel: 'push' as const, title: 'Tea', body: 'Fresh', url };
      const { url: sent } = trackRendered(
        push,
        { ...send, customerId: 'unknown', channel: 'push' },
        { baseUrl: base, secret },
        { brand: () => true },
      ) as {
        url: string;
      };
      // Sent as it is when the token would be longer than the route takes (some 6,000 characters).
      expect(sent === url, `${length}`).toBe(length > 6_000);
      if (sent === url) continue;
      const res = await h.app.inject({ method: 'GET', url: sent.slice(base.length) });
      expect(res.statusCode, `${length}`).toBe(302);
      expect(res.headers.location).toBe(url);
    }
  });

  it('answers the pixel with a transparent 1×1 GIF that is never cached, and records the open once', async () => {
    for (let i = 0; i < 2; i++) {
      const res = await h.app.inject({ method: 'GET', url: `/t/o/${openToken}` });
      expect(res.statusCode).toBe(200);
      expect(res.headers['content-type']).toBe('image/gif');
      expect(res.headers['cache-control']).toContain('no-store');
      expect(res.rawPayload.subarray(0, 6).toString('latin1')).toBe('GIF89a');
      expect(res.rawPayload.readUInt16LE(6)).toBe(1);
      expect(res.rawPayload.readUInt16LE(8)).toBe(1);
    }
    expect((await readSendEngagement(h.redis, h.prefix, 'ada')).get('op-1')).toMatchObject({
      openedAt: h.clock.now(),
    });
    expect((await today())[0]!.counts).toMatchObject({ opened: 1 });
    const forged = await h.app.inject({ method: 'GET', url: `/t/o/${clickToken}` });
    expect(forged.statusCode).toBe(400);
  });

  it('shows open and click times on the customer’s message entry, not on the notes that share its id', async () => {
    // The send was held for the night first (a note under the same operation id), then sent.
    const held = { ...send, status: 'delayed', rule: 'quiet-hours', at: h.clock.now() - 2000 };
    const entry = { ...send, status: 'sent', at: h.clock.now() - 1000 };
    await h.redis.lpush(customerKeys(h.prefix, 'ada').messages, JSON.stringify(held), JSON.stringify(entry));
    const res = await h.app.inject({ method: 'GET', url: '/v1/customers/ada', headers: h.auth });
    expect(res.statusCode).toBe(200);
    expect(res.json().messages[0]).toMatchObject({
      opId: 'op-1',
      status: 'sent',
      openedAt: h.clock.now(),
      clickedAt: h.clock.now(),
      clicks: 2,
    });
    expect(res.json().messages[1]).toEqual(held);
    const exported = await h.app.inject({ method: 'GET', url: '/v1/customers/ada/export', headers: h.auth });
    expect(exported.json().engagement.map((e: { kind: string }) => e.kind)).toEqual([
      'opened',
      'clicked',
      'clicked',
    ]);
  });
});

describe('tracked links and the pixel of an erased customer', () => {
  let h: HttpHarness;
  beforeAll(async () => {
    h = await httpHarness({ journeys: [notify] });
  });
  afterAll(() => h.close());

  it('still lead the person on, and store nothing about them again', async () => {
    await h.engine.identify({ userId: 'eve', traits: { email: 'eve@example.com' } });
    await h.engine.track({ userId: 'eve', event: 'Notify' });
    const sent = await eventually(async () =>
      (await h.engine.customer('eve')).messages.find((m) => m.status === 'sent'),
    );
    const eveSend: TrackedSend = {
      ...send,
      opId: String(sent.opId),
      customerId: 'eve',
      message: String(sent.message),
      variant: String(sent.variant ?? 'control'),
    };
    const secret = trackingSecret(UNSUBSCRIBE_SECRET);
    const open = createTrackingToken(secret, { kind: 'open', ...eveSend });
    const click = createTrackingToken(secret, { kind: 'click', ...eveSend, url: target });
    expect((await h.app.inject(`/t/o/${open}`)).statusCode).toBe(200);
    const opened = () =>
      readDailyCounts(h.redis, h.prefix, { journeyId: 'notify', from: h.clock.now(), to: h.clock.now() });
    expect((await opened())[0]!.counts).toMatchObject({ opened: 1 });

    const erased = await h.app.inject({ method: 'DELETE', url: '/v1/customers/eve', headers: h.auth });
    expect(erased.statusCode).toBe(200);
    // An old email opened, and its link followed, after the erasure.
    expect((await h.app.inject(`/t/o/${open}`)).statusCode).toBe(200);
    const res = await h.app.inject(`/t/c/${click}`);
    expect(res.statusCode).toBe(302);
    expect(res.headers.location).toBe(target);
    expect(await h.redis.keys(`${customerKeys(h.prefix, 'eve').state}*`)).toEqual([]);
    expect((await h.app.inject({ url: '/v1/customers/eve/export', headers: h.auth })).statusCode).toBe(404);
    // Nor is the erased customer's open counted as a first one again.
    expect((await opened())[0]!.counts).toMatchObject({ opened: 1 });
    expect((await opened())[0]!.counts.clicked).toBeUndefined();
  });
});

describe('an open that meets the erasure of its customer', () => {
  let h: HttpHarness;
  beforeAll(async () => {
    h = await httpHarness({ journeys: [notify], workers: false });
  });
  afterAll(() => h.close());

  type Unlink = (...keys: string[]) => Promise<number>;
  type Exists = (...keys: string[]) => Promise<number>;
  const secret = trackingSecret(UNSUBSCRIBE_SECRET);
  const openOf = (customerId: string) => createTrackingToken(secret, { kind: 'open', ...send, customerId });
  const left = (customerId: string) => keysSharingTag(h.redis, customerKeys(h.prefix, customerId).state);

  it('stores nothing when it lands after the erasure listed the customer’s keys', async () => {
    await h.redis.hset(customerKeys(h.prefix, 'zoe').state, 'rev', 1);
    const redis = h.engine.store.redis as unknown as { unlink: Unlink };
    const unlink = redis.unlink.bind(redis);
    let opened = 0;
    // The pixel loads while the erasure holds the customer: after its scan, before it deletes.
    redis.unlink = async (...keys) => {
      if (opened++ === 0) expect((await h.app.inject(`/t/o/${openOf('zoe')}`)).statusCode).toBe(200);
      return unlink(...keys);
    };
    try {
      await h.engine.erase('zoe');
    } finally {
      redis.unlink = unlink;
    }
    expect(await left('zoe')).toEqual([]);
  });

  it('stores nothing when the erasure ends between finding the customer and recording', async () => {
    await h.redis.hset(customerKeys(h.prefix, 'yan').state, 'rev', 1);
    const redis = h.engine.store.redis as unknown as { exists: Exists };
    const exists = redis.exists.bind(redis);
    let erased = false;
    redis.exists = async (...keys) => {
      const found = await exists(...keys);
      if (!erased) {
        erased = true;
        await h.engine.erase('yan');
      }
      return found;
    };
    // The routes over this engine, whose connection the test watches.
    const app = Fastify();
    app.setValidatorCompiler(validatorCompiler);
    app.setSerializerCompiler(serializerCompiler);
    await app.register(trackingRoutes, { engine: h.engine, secrets: [secret], clock: h.clock });
    try {
      expect((await app.inject(`/t/o/${openOf('yan')}`)).statusCode).toBe(200);
    } finally {
      redis.exists = exists;
      await app.close();
    }
    // Erased after the open, if it did not happen during it: either way nothing may be left.
    if (!erased) await h.engine.erase('yan');
    expect(await left('yan')).toEqual([]);
  });
});

describe('a tracked link while Redis is away', () => {
  it('still takes the person to its URL, at once, without recording', async () => {
    const privateRedis = await resolveRedis({ defaultUrl: 'redis://127.0.0.1:1' });
    const h = await httpHarness({ journeys: [notify], workers: false, apiRedisUrl: privateRedis.url });
    try {
      await privateRedis.stop();
      const token = createTrackingToken(trackingSecret(UNSUBSCRIBE_SECRET), {
        kind: 'click',
        ...send,
        url: target,
      });
      const started = Date.now();
      const res = await h.app.inject({ method: 'GET', url: `/t/c/${token}` });
      expect(res.statusCode).toBe(302);
      expect(res.headers.location).toBe(target);
      expect(Date.now() - started).toBeLessThan(1000);
    } finally {
      await h.close();
      await privateRedis.stop();
    }
  });
});
