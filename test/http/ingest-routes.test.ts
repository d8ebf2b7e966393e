import { gzipSync, deflateSync } from 'node:zlib';
import { Redis } from 'ioredis';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { onboarding } from '../fixtures/journeys/onboarding.js';
import { comeback } from '../fixtures/journeys/comeback.js';
import { API_KEY, httpHarness, type HttpHarness } from '../support/http.js';
import { eventually } from '../support/redis.js';

describe('ingest over HTTP', () => {
  let h: HttpHarness;
  beforeEach(async () => {
    h = await httpHarness({ journeys: [onboarding, comeback] });
  });
  afterEach(() => h.close());

  const post = (url: string, payload: unknown, headers: Record<string, string> = h.auth) =>
    h.app.inject({ method: 'POST', url, payload: payload as object, headers });

  const keysOf = async () => (await h.redis.keys(`${h.prefix}:c:*`)).sort();

  it('identify and track answer 200 once stored, and the customer moves through the journey', async () => {
    const identify = await post('/v1/identify', {
      userId: 'ada',
      traits: { firstName: 'Ada', email: 'ada@example.com' },
    });
    expect(identify.statusCode).toBe(200);
    expect(identify.json()).toMatchObject({ duplicate: false });
    expect(identify.headers['x-request-id']).toBeTruthy();
    const track = await post('/v1/track', { userId: 'ada', event: 'Signed Up', properties: { plan: 'pro' } });
    expect(track.statusCode).toBe(200);
    const customer = await eventually(async () => {
      const res = await h.app.inject({ url: '/v1/customers/ada', headers: h.auth });
      const body = res.json<{ journeys: unknown[]; messages: unknown[] }>();
      return res.statusCode === 200 && body.messages.length > 0 ? body : undefined;
    });
    expect(customer).toMatchObject({
      userId: 'ada',
      traits: { firstName: 'Ada', email: 'ada@example.com' },
      journeys: [{ journeyId: 'onboarding', version: 1, status: 'active' }],
      messages: [{ message: 'welcome', channel: 'email', status: 'sent' }],
    });
  });

  it("answers every Segment call 200, as Segment's API does, which its PHP and .NET libraries require", async () => {
    // Their consumers count only a 200 as sent, and post a batch answered 202 again, without end.
    const calls: Array<[string, object]> = [
      ['/v1/identify', { userId: 'st', traits: {} }],
      ['/v1/track', { userId: 'st', event: 'Signed Up' }],
      ['/v1/track', { anonymousId: 'v-st', event: 'Signed Up' }],
      ['/v1/batch', { batch: [{ type: 'track', userId: 'st', event: 'Signed Up' }] }],
      ['/v1/import', { batch: [{ type: 'identify', userId: 'st', traits: {} }] }],
      ['/v1/page', { anonymousId: 'v-st', name: 'Home' }],
      ['/v1/screen', { anonymousId: 'v-st', name: 'Home' }],
      ['/v1/group', { userId: 'st', groupId: 'g-1' }],
      ['/v1/alias', { userId: 'st', previousId: 'v-st' }],
    ];
    for (const [url, call] of calls) expect((await post(url, call)).statusCode, url).toBe(200);
  });

  it('accepts a duplicate messageId and ignores it', async () => {
    const call = { userId: 'bo', event: 'Signed Up', messageId: 'm-1' };
    expect((await post('/v1/track', call)).json()).toMatchObject({ eventId: 'm-1', duplicate: false });
    const again = await post('/v1/track', call);
    expect(again.statusCode).toBe(200);
    expect(again.json()).toMatchObject({ eventId: 'm-1', duplicate: true });
    const events = await h.engine.customer('bo');
    expect(events.recentEvents.filter((e) => e.id === 'm-1')).toHaveLength(1);
  });

  it('accepts the Segment write key as basic auth', async () => {
    const basic = `Basic ${Buffer.from(`${API_KEY}:`).toString('base64')}`;
    expect(
      (await post('/v1/track', { userId: 'cy', event: 'Page' }, { authorization: basic })).statusCode,
    ).toBe(200);
  });

  it('answers 401 without a valid key, and stores nothing', async () => {
    const none = await post('/v1/track', { userId: 'x', event: 'Signed Up' }, {});
    expect(none.statusCode).toBe(401);
    // A challenge for each scheme a key is taken in: Bearer, and Basic (the Segment write key).
    const challenge = 'Bearer realm="chorus", Basic realm="chorus", charset="UTF-8"';
    expect(none.headers['www-authenticate']).toBe(challenge);
    expect(none.json()).toMatchObject({ error: { code: 'CHORUS_UNAUTHORIZED' } });
    const wrong = await post(
      '/v1/track',
      { userId: 'x', event: 'Signed Up' },
      { authorization: 'Bearer nope' },
    );
    expect(wrong.statusCode).toBe(401);
    expect(wrong.headers['www-authenticate']).toBe(challenge);
    expect(await keysOf()).toEqual([]);
  });

  it('answers 400 naming each bad field, and stores nothing', async () => {
    const res = await post('/v1/track', { userId: '', properties: 'no', timestamp: 'yesterday' });
    expect(res.statusCode).toBe(400);
    const body = res.json<{ error: { code: string; issues: Array<{ field: string }> } }>();
    expect(body.error.code).toBe('CHORUS_INVALID_INPUT');
    expect(body.error.issues.map((i) => i.field).sort()).toEqual([
      'body.event',
      'body.properties',
      'body.timestamp',
      'body.userId',
    ]);
    const notJson = await h.app.inject({
      method: 'POST',
      url: '/v1/track',
      payload: '{"userId":',
      headers: { ...h.auth, 'content-type': 'application/json' },
    });
    expect(notJson.statusCode).toBe(400);
    expect(notJson.json()).toMatchObject({ error: { code: 'CHORUS_INVALID_JSON' } });
    expect(await keysOf()).toEqual([]);
  });

  it('rejects a whole batch when one item is bad, naming it by index', async () => {
    const res = await post('/v1/batch', {
      batch: [
        { type: 'identify', userId: 'd1', traits: { firstName: 'Di' } },
        { type: 'track', userId: 'd1', event: 'Signed Up' },
        { type: 'track', userId: 'd2' },
        { type: 'merge', userId: 'd3' },
      ],
    });
    expect(res.statusCode).toBe(400);
    const issues = res.json<{ error: { issues: Array<{ field: string; message: string }> } }>().error.issues;
    const fields = issues.map((i) => i.field);
    expect(fields).toContain('body.batch.2.event');
    // The unknown type is named beside the ones there are.
    expect(issues).toContainEqual({
      field: 'body.batch.3.type',
      message: '"merge" is not a call type: expected one of track, identify, page, screen, group, alias',
    });
    expect(await keysOf()).toEqual([]);
  });

  it('accepts and ignores what a Segment library sends besides identified calls, storing nothing of it', async () => {
    const ignored = { ignored: true, reason: expect.any(String) };
    for (const type of ['page', 'screen', 'group', 'alias'])
      expect(
        (await post(`/v1/${type}`, { anonymousId: 'v-1', name: 'Home', properties: {} })).json(),
      ).toEqual(ignored);
    const visitor = await post('/v1/track', { anonymousId: 'v-1', event: 'Signed Up' });
    expect(visitor.statusCode).toBe(200);
    expect(visitor.json()).toEqual({ ignored: true, reason: expect.stringContaining('no userId') });
    expect(await keysOf()).toEqual([]);

    // In a batch, the identified calls beside them are stored as usual.
    const res = await post('/v1/batch', {
      batch: [
        { type: 'page', anonymousId: 'v-2', name: 'Pricing' },
        { type: 'identify', anonymousId: 'v-2', userId: 'f1', traits: { firstName: 'Fi' }, messageId: 'b-9' },
        { type: 'track', anonymousId: 'v-3', event: 'Signed Up' },
      ],
    });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ results: [ignored, { eventId: 'b-9', duplicate: false }, ignored] });
    expect((await h.engine.customer('f1')).recentEvents.map((e) => e.id)).toEqual(['b-9']);

    // Segment still asks every call for one of the two ids.
    const none = await post('/v1/page', { name: 'Home' });
    expect(none.statusCode).toBe(400);
    expect(none.json()).toMatchObject({ error: { issues: [{ field: 'body.userId' }] } });
    const nulls = await post('/v1/track', { userId: null, anonymousId: null, event: 'Signed Up' });
    expect(nulls.json()).toMatchObject({ error: { issues: [{ field: 'body.userId' }] } });
  });

  it("takes Segment's Python library's calls, which send the id they lack as null", async () => {
    const known = await post('/v1/track', {
      userId: 'gi',
      anonymousId: null,
      event: 'Signed Up',
      messageId: 'p-1',
    });
    expect(known.json()).toEqual({ eventId: 'p-1', duplicate: false });
    const visitor = await post('/v1/identify', { userId: null, anonymousId: 'v-9', traits: {} });
    expect(visitor.json()).toMatchObject({ ignored: true });
  });

  it('reads an empty userId or anonymousId as none, as Segment libraries do, not as a bad batch', async () => {
    // As analytics-ruby sends `user_id: current_user&.id.to_s` for a visitor: "" beside the anonymousId.
    const res = await post('/v1/batch', {
      batch: [
        { type: 'track', userId: '', anonymousId: 'v-5', event: 'Signed Up' },
        { type: 'track', userId: 'hy', anonymousId: '', event: 'Signed Up', messageId: 'y-1' },
      ],
    });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({
      results: [
        { ignored: true, reason: expect.stringContaining('no userId') },
        { eventId: 'y-1', duplicate: false },
      ],
    });
    expect((await h.engine.customer('hy')).recentEvents.map((e) => e.id)).toEqual(['y-1']);
    // With no other id, the call still names the one it needs.
    const none = await post('/v1/track', { userId: '', anonymousId: '', event: 'Signed Up' });
    expect(none.statusCode).toBe(400);
    expect(none.json()).toMatchObject({
      error: { issues: [{ field: 'body.userId', message: expect.stringContaining('required') }] },
    });
  });

  it('takes a whole-number userId, as Segment does, as the customer with that id as a string', async () => {
    // As analytics-php sends `'userId' => $user->id`: an integer, in a batch beside other calls.
    const res = await post('/v1/batch', {
      batch: [
        { type: 'identify', userId: 42, traits: { firstName: 'Hal' }, messageId: 'n-1' },
        { type: 'track', userId: 42, event: 'Signed Up', messageId: 'n-2' },
        { type: 'page', anonymousId: 7, name: 'Home' },
      ],
    });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({
      results: [{ eventId: 'n-1' }, { eventId: 'n-2' }, { ignored: true }],
    });
    // "42" and 42 are one customer: the same messageId is the same call.
    expect((await post('/v1/track', { userId: '42', event: 'Signed Up', messageId: 'n-2' })).json()).toEqual({
      eventId: 'n-2',
      duplicate: true,
    });
    const hal = await eventually(async () => {
      const c = await h.engine.customer('42');
      return c.instances.length > 0 ? c : undefined;
    });
    expect(hal.profile).toEqual({ firstName: 'Hal' });

    // A fraction is no id, and a number past 2^53 has lost its last digits on the way in.
    for (const userId of [4.2, 2 ** 60]) {
      const refused = await post('/v1/track', { userId, event: 'Signed Up' });
      expect(refused.statusCode).toBe(400);
      expect(refused.json()).toMatchObject({
        error: {
          issues: [
            {
              field: 'body.userId',
              message:
                'must be a string, or a whole number up to 9007199254740991 (send a larger one as a string)',
            },
          ],
        },
      });
    }
  });

  it('stores a good batch in order', async () => {
    const res = await post('/v1/batch', {
      batch: [
        { type: 'identify', userId: 'e1', traits: { firstName: 'Ed' }, messageId: 'b-1' },
        { type: 'track', userId: 'e1', event: 'Signed Up', messageId: 'b-2' },
        { type: 'track', userId: 'e2', event: 'Signed Up', messageId: 'b-3' },
      ],
    });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({
      results: [
        { eventId: 'b-1', duplicate: false },
        { eventId: 'b-2', duplicate: false },
        { eventId: 'b-3', duplicate: false },
      ],
    });
    const e1 = await eventually(async () => {
      const c = await h.engine.customer('e1');
      return c.instances.length > 0 ? c : undefined;
    });
    expect(e1.profile).toEqual({ firstName: 'Ed' });
  });

  it("dates each call by this server's clock, correcting the sender's by its sentAt, as Segment does", async () => {
    const now = h.clock.now();
    const iso = (ms: number) => new Date(ms).toISOString();
    // A phone an hour fast: it stamped the order 5 s before it sent it, by its own clock.
    const phone = now + 3_600_000;
    await post('/v1/track', {
      userId: 'skew',
      event: 'Viewed',
      messageId: 'k-1',
      timestamp: iso(phone - 5_000),
      sentAt: iso(phone),
    });
    // A batch's sentAt, once for all its calls (Segment's server libraries); a call's own wins.
    await post('/v1/batch', {
      sentAt: iso(phone),
      batch: [
        { type: 'track', userId: 'skew', event: 'Viewed', messageId: 'k-2', timestamp: phone - 60_000 },
        {
          type: 'identify',
          userId: 'skew',
          traits: { a: 1 },
          messageId: 'k-3',
          timestamp: iso(phone - 1_000),
        },
        {
          type: 'track',
          userId: 'skew',
          event: 'Viewed',
          messageId: 'k-4',
          timestamp: iso(now - 7_000),
          sentAt: iso(now),
        },
      ],
    });
    // Without sentAt the timestamp is the sender's word, as before.
    await post('/v1/track', {
      userId: 'skew',
      event: 'Viewed',
      messageId: 'k-5',
      timestamp: iso(now - 9_000),
    });
    // A null sentAt is none, as a library sends a field it lacks.
    const nulled = await post('/v1/track', {
      userId: 'skew',
      event: 'Viewed',
      messageId: 'k-6',
      timestamp: iso(now - 2_000),
      sentAt: null,
    });
    expect(nulled.statusCode).toBe(200);
    const res = await h.app.inject({ url: '/v1/customers/skew/export', headers: h.auth });
    const events = res.json<{ recentEvents: Array<{ id: string; timestamp: number }> }>().recentEvents;
    expect(Object.fromEntries(events.map((e) => [e.id, now - e.timestamp]))).toEqual({
      'k-1': 5_000,
      'k-2': 60_000,
      'k-3': 1_000,
      'k-4': 7_000,
      'k-5': 9_000,
      'k-6': 2_000,
    });
  });

  it('refuses a time without its offset wherever a call carries one, naming it, as Segment does not read one either', async () => {
    // Read as UTC, a call from Berlin would be dated an hour late; in the server's zone, differently on each server.
    const local = '2026-11-23T10:00:00';
    const refusals: Array<[string, object, string]> = [
      ['/v1/track', { userId: 'z', event: 'Viewed', timestamp: local }, 'body.timestamp'],
      ['/v1/identify', { userId: 'z', traits: {}, originalTimestamp: local }, 'body.originalTimestamp'],
      [
        '/v1/batch',
        { sentAt: local, batch: [{ type: 'track', userId: 'z', event: 'Viewed' }] },
        'body.sentAt',
      ],
      [
        '/v1/batch',
        { batch: [{ type: 'track', userId: 'z', event: 'Viewed', sentAt: local }] },
        'body.batch.0.sentAt',
      ],
      ['/v1/journeys/comeback/trigger', { userId: 'z', timestamp: local }, 'body.timestamp'],
      [
        '/v1/customers/z/consent',
        { channel: 'email', topic: 'marketing', granted: true, timestamp: local },
        'body.timestamp',
      ],
    ];
    for (const [url, call, field] of refusals) {
      const res = await post(url, call);
      expect(res.statusCode, field).toBe(400);
      expect(res.json(), url).toMatchObject({
        error: { issues: [{ field, message: expect.stringContaining('with offset') }] },
      });
    }
    expect(await keysOf()).toEqual([]);
    // With its offset, or as epoch milliseconds, the same time is taken.
    for (const timestamp of [`${local}Z`, `${local}+01:00`, Date.parse(`${local}Z`)])
      expect((await post('/v1/track', { userId: 'z', event: 'Viewed', timestamp })).statusCode).toBe(200);
  });

  it('merges traits by their top-level names: an object trait replaces the one before whole, as Customer.io and Braze take it', async () => {
    await post('/v1/batch', {
      batch: [
        {
          type: 'identify',
          userId: 'nest',
          traits: { plan: 'pro', address: { city: 'Lyon', zip: '69001' } },
        },
        { type: 'identify', userId: 'nest', traits: { address: { city: 'Paris', floor: null }, plan: null } },
      ],
    });
    const nest = await eventually(async () => {
      const c = await h.engine.customer('nest');
      return c.pendingEvents === 0 && c.recentEvents.length === 2 ? c : undefined;
    });
    // A null at the top removes the trait; one inside an object is part of its value.
    expect(nest.profile).toEqual({ address: { city: 'Paris', floor: null } });
  });

  it('refuses epoch milliseconds past 9999 in a track or trigger, as in every other call: no date can show them', async () => {
    const far = Date.parse('9999-12-31T23:59:59.999Z') + 1;
    for (const [url, call] of [
      ['/v1/track', { userId: 'z', event: 'Viewed', timestamp: far }],
      ['/v1/journeys/comeback/trigger', { userId: 'z', timestamp: far }],
      ['/v1/batch', { batch: [{ type: 'track', userId: 'z', event: 'Viewed', timestamp: far }] }],
    ] as const) {
      const res = await post(url, call);
      expect(res.statusCode, url).toBe(400);
      expect(res.json(), url).toMatchObject({
        error: {
          issues: [{ field: expect.stringMatching(/timestamp$/), message: expect.stringContaining('9999') }],
        },
      });
    }
    expect(await keysOf()).toEqual([]);
  });

  it("takes a batch at /v1/import, where Segment's Ruby and Java libraries post it", async () => {
    // As analytics-ruby sends it: basic auth with the write key, context and sentAt beside the calls.
    const basic = `Basic ${Buffer.from(`${API_KEY}:`).toString('base64')}`;
    const res = await post(
      '/v1/import',
      {
        batch: [
          { type: 'identify', userId: 'f1', traits: { firstName: 'Fay' }, messageId: 'i-1' },
          { type: 'track', userId: 'f1', event: 'Signed Up', messageId: 'i-2', context: { library: {} } },
        ],
        sentAt: '2026-11-23T10:00:00.000Z',
      },
      { authorization: basic },
    );
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({
      results: [
        { eventId: 'i-1', duplicate: false },
        { eventId: 'i-2', duplicate: false },
      ],
    });
    const f1 = await eventually(async () => {
      const c = await h.engine.customer('f1');
      return c.instances.length > 0 ? c : undefined;
    });
    expect(f1.profile).toEqual({ firstName: 'Fay' });
  });

  it("stores one customer's calls of a batch in order even when one is sent again after a NOSCRIPT", async () => {
    await h.close();
    h = await httpHarness({ journeys: [onboarding, comeback], workers: false });
    // The first call's script is answered NOSCRIPT (as after a Redis restart) a little later, so the
    // engine sends it again as EVAL; a call issued beside it meanwhile would be stored first.
    const commands = Object.getPrototypeOf(Redis.prototype) as { evalsha: (...args: unknown[]) => unknown };
    const evalsha = commands.evalsha;
    let first = true;
    commands.evalsha = function (this: unknown, ...args: unknown[]) {
      const pushesFirst = args.some((arg) => typeof arg === 'string' && arg.includes('"id":"o-1"'));
      if (!first || !pushesFirst) return evalsha.apply(this, args);
      first = false;
      return new Promise((_, reject) =>
        setTimeout(() => reject(new Error('NOSCRIPT No matching script.')), 50),
      );
    };
    try {
      const res = await post('/v1/batch', {
        batch: [
          { type: 'track', userId: 'o1', event: 'First Thing', messageId: 'o-1' },
          { type: 'track', userId: 'o1', event: 'Second Thing', messageId: 'o-2' },
        ],
      });
      expect(res.statusCode).toBe(200);
    } finally {
      commands.evalsha = evalsha;
    }
    const inbox = await h.redis.lrange(h.engine.store.keys('o1').inbox, 0, -1);
    expect(inbox.map((raw) => (JSON.parse(raw) as { name?: string }).name)).toEqual([
      'First Thing',
      'Second Thing',
    ]);
  });

  it('answers 415 for a body that is not JSON', async () => {
    const res = await h.app.inject({
      method: 'POST',
      url: '/v1/track',
      payload: 'userId=x',
      headers: { ...h.auth, 'content-type': 'text/plain' },
    });
    expect(res.statusCode).toBe(415);
    expect(res.json()).toMatchObject({ error: { code: 'CHORUS_UNSUPPORTED_MEDIA_TYPE' } });
  });

  it('answers 413 for an oversized body', async () => {
    const res = await post('/v1/track', {
      userId: 'big',
      event: 'X',
      properties: { blob: 'x'.repeat(1_100_000) },
    });
    expect(res.statusCode).toBe(413);
    // The sender's log says how large a body may be, and the operator which setting says so.
    expect(res.json()).toMatchObject({
      error: {
        code: 'CHORUS_BODY_TOO_LARGE',
        message: expect.stringMatching(/^The request body is larger than the 1048576 bytes .*BODY_LIMIT/),
      },
    });
  });

  it('reads a gzipped or deflated body, as Segment libraries send their batches', async () => {
    const send = (url: string, body: Buffer, encoding: string) =>
      h.app.inject({
        method: 'POST',
        url,
        payload: body,
        headers: { ...h.auth, 'content-type': 'application/json', 'content-encoding': encoding },
      });
    const batch = { batch: [{ type: 'track', userId: 'z1', event: 'Signed Up', messageId: 'z-1' }] };
    const zipped = await send('/v1/import', gzipSync(JSON.stringify(batch)), 'gzip');
    expect(zipped.statusCode).toBe(200);
    expect(zipped.json()).toEqual({ results: [{ eventId: 'z-1', duplicate: false }] });
    const track = { userId: 'z1', event: 'Product Viewed', messageId: 'z-2' };
    expect((await send('/v1/track', deflateSync(JSON.stringify(track)), 'deflate')).statusCode).toBe(200);
    expect((await h.engine.customer('z1')).recentEvents.map((e) => e.id).sort()).toEqual(['z-1', 'z-2']);

    // A body that does not inflate, an encoding not read, and one that inflates past BODY_LIMIT.
    const broken = await send('/v1/track', gzipSync(JSON.stringify(track)).subarray(0, 12), 'gzip');
    expect(broken.statusCode).toBe(400);
    expect(broken.json().error).toMatchObject({
      code: 'CHORUS_BAD_REQUEST',
      message: expect.stringMatching(/^The body is not valid gzip/),
    });
    const brotli = await send('/v1/track', Buffer.from('x'), 'br');
    expect(brotli.statusCode).toBe(415);
    expect(brotli.json().error.message).toMatch(/Content-Encoding "br"/);
    const bomb = gzipSync(
      JSON.stringify({ userId: 'z2', event: 'X', properties: { blob: 'x'.repeat(5e6) } }),
    );
    expect(bomb.length).toBeLessThan(100_000);
    const refused = await send('/v1/track', bomb, 'gzip');
    expect(refused.statusCode).toBe(413);
    expect(refused.json()).toMatchObject({ error: { code: 'CHORUS_BODY_TOO_LARGE' } });
    // A request without a body to read is served whatever its headers say.
    const read = await h.app.inject({
      url: '/v1/customers/z1',
      headers: { ...h.auth, 'content-encoding': 'gzip' },
    });
    expect(read.statusCode).toBe(200);
    // Nothing of the refused calls was stored.
    expect((await keysOf()).filter((key) => !key.includes('{z1}'))).toEqual([]);
  });

  it('enters a customer into an API-triggered journey, checking its data', async () => {
    const bad = await post('/v1/journeys/comeback/trigger', { userId: 'f1', data: { coupon: 1 } });
    expect(bad.statusCode).toBe(400);
    expect(bad.json<{ error: { issues: Array<{ field: string }> } }>().error.issues[0]?.field).toBe(
      'body.data.coupon',
    );
    const unknown = await post('/v1/journeys/nope/trigger', { userId: 'f1' });
    expect(unknown.statusCode).toBe(404);
    const eventJourney = await post('/v1/journeys/onboarding/trigger', { userId: 'f1' });
    expect(eventJourney.statusCode).toBe(400);
    expect(eventJourney.json<{ error: { issues: Array<{ field: string }> } }>().error.issues[0]?.field).toBe(
      'params.id',
    );
    const ok = await post('/v1/journeys/comeback/trigger', { userId: 'f1', data: { coupon: 'TEA10' } });
    expect(ok.statusCode).toBe(202);
    const customer = await eventually(async () => {
      const c = await h.engine.customer('f1');
      return c.instances.length > 0 ? c : undefined;
    });
    expect(customer.instances[0]).toMatchObject({
      journeyId: 'comeback',
      state: 'waiting',
      stage: 'decision',
    });
  });
});
