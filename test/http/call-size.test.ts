import { gzipSync } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import { createEngine, DEFAULT_MAX_CALL_BYTES, InvalidInputError } from '../../engine/index.js';
import { comeback } from '../fixtures/journeys/comeback.js';
import { onboarding } from '../fixtures/journeys/onboarding.js';
import { httpHarness, type HttpHarness } from '../support/http.js';

type ErrorBody = {
  error: { code: string; message: string; issues: Array<{ field: string; message: string }> };
};

/** A call whose JSON is about `bytes` long, padded in one property. */
const trackOf = (userId: string, bytes: number, extra: object = {}) => {
  const call = { userId, event: 'Order Completed', properties: { note: '' }, ...extra };
  const padding = bytes - JSON.stringify(call).length;
  return { ...call, properties: { note: 'x'.repeat(padding) } };
};

describe('the size of an ingest call', () => {
  let h: HttpHarness;
  afterEach(() => h.close());

  const post = (url: string, payload: object) =>
    h.app.inject({ method: 'POST', url, payload, headers: h.auth });
  const keysOf = async () => (await h.redis.keys(`${h.prefix}:c:*`)).sort();

  it('is held to 32 KB by default: a track of 33 KB is refused naming it, one of 31 KB is stored', async () => {
    h = await httpHarness({ journeys: [onboarding, comeback], workers: false });
    expect(DEFAULT_MAX_CALL_BYTES).toBe(32_768);
    const large = await post('/v1/track', trackOf('big', 33 * 1024));
    expect(large.statusCode).toBe(400);
    expect(large.json<ErrorBody>().error).toMatchObject({
      code: 'CHORUS_INVALID_INPUT',
      message: expect.stringMatching(/MAX_CALL_BYTES.*To fix: send less in each call/),
      issues: [
        {
          field: 'body',
          message: `is ${33 * 1024} bytes as JSON, more than the 32768 a call may have (MAX_CALL_BYTES)`,
        },
      ],
    });
    const identify = await post('/v1/identify', { userId: 'big', traits: { bio: 'x'.repeat(40_000) } });
    expect(identify.statusCode).toBe(400);
    expect(identify.json<ErrorBody>().error.issues.map((i) => i.field)).toEqual(['body']);
    expect(await keysOf()).toEqual([]);

    const fits = await post('/v1/track', trackOf('fits', 31 * 1024, { messageId: 'fits-1' }));
    expect(fits.statusCode).toBe(200);
    expect((await h.engine.customer('fits')).recentEvents.map((e) => e.id)).toEqual(['fits-1']);
  });

  it('refuses a whole batch holding one call too large, naming it by index, and stores none of it', async () => {
    h = await httpHarness({ journeys: [onboarding, comeback], workers: false });
    const batch = [
      { type: 'identify', userId: 'b1', traits: { firstName: 'Bea' } },
      { type: 'track', ...trackOf('b1', 20_000) },
      { type: 'track', ...trackOf('b2', 20_000) },
      { type: 'track', ...trackOf('b3', 40_000) },
    ];
    for (const url of ['/v1/batch', '/v1/import']) {
      const res = await post(url, { batch });
      expect(res.statusCode, url).toBe(400);
      expect(res.json<ErrorBody>().error.issues).toEqual([
        {
          field: 'body.batch.3',
          message: expect.stringMatching(/^is \d+ bytes as JSON, more than the 32768 a call may have/),
        },
      ]);
    }
    // Gzipped, as Segment's libraries may send it: measured as it inflates.
    const zipped = await h.app.inject({
      method: 'POST',
      url: '/v1/batch',
      payload: gzipSync(JSON.stringify({ batch })),
      headers: { ...h.auth, 'content-type': 'application/json', 'content-encoding': 'gzip' },
    });
    expect(zipped.statusCode).toBe(400);
    expect(zipped.json<ErrorBody>().error.issues.map((i) => i.field)).toEqual(['body.batch.3']);
    expect(await keysOf()).toEqual([]);

    // The same batch without it, larger than one call may be, is stored whole.
    const res = await post('/v1/batch', { batch: batch.slice(0, 3) });
    expect(res.statusCode).toBe(200);
    expect((await h.engine.customer('b2')).recentEvents).toHaveLength(1);
  });

  it('refuses a journey trigger whose call is too large, naming the body', async () => {
    h = await httpHarness({ journeys: [onboarding, comeback], workers: false });
    const res = await post('/v1/journeys/comeback/trigger', {
      userId: 't1',
      data: { coupon: 'x'.repeat(40_000) },
    });
    expect(res.statusCode).toBe(400);
    expect(res.json<ErrorBody>().error).toMatchObject({
      message: expect.stringMatching(/^Invalid trigger of journey comeback: body: is \d+ bytes/),
      issues: [{ field: 'body' }],
    });
    expect(await keysOf()).toEqual([]);
  });

  it('follows MAX_CALL_BYTES: a call within the default is refused above a lower limit', async () => {
    h = await httpHarness({ journeys: [onboarding, comeback], workers: false, maxCallBytes: 2048 });
    const res = await post('/v1/track', trackOf('low', 3000));
    expect(res.statusCode).toBe(400);
    expect(res.json<ErrorBody>().error.issues).toEqual([
      {
        field: 'body',
        message: 'is 3000 bytes as JSON, more than the 2048 a call may have (MAX_CALL_BYTES)',
      },
    ]);
    const batch = await post('/v1/batch', {
      batch: [
        { type: 'track', ...trackOf('low', 1500) },
        { type: 'track', ...trackOf('low', 2100) },
      ],
    });
    expect(batch.statusCode).toBe(400);
    expect(batch.json<ErrorBody>().error.issues.map((i) => i.field)).toEqual(['body.batch.1']);
    expect(await keysOf()).toEqual([]);
    expect((await post('/v1/track', trackOf('low', 2000))).statusCode).toBe(200);
  });

  it("is checked by the engine's code API too, naming the call", async () => {
    h = await httpHarness({ journeys: [onboarding, comeback], workers: false });
    const large = 'x'.repeat(40_000);
    const refusal = (what: string) =>
      expect.objectContaining({
        constructor: InvalidInputError,
        issues: [{ field: '(root)', message: expect.stringMatching(/more than the 32768 a call may have/) }],
        message: expect.stringMatching(new RegExp(`^Invalid ${what}: \\(root\\): is \\d+ bytes as JSON`)),
      });
    await expect(h.engine.track({ userId: 'c1', event: 'Signed Up', properties: { large } })).rejects.toThrow(
      refusal('track call'),
    );
    await expect(h.engine.identify({ userId: 'c1', traits: { large } })).rejects.toThrow(
      refusal('identify call'),
    );
    await expect(h.engine.trigger('comeback', { userId: 'c1', data: { coupon: large } })).rejects.toThrow(
      refusal('trigger of journey comeback'),
    );
    expect(await keysOf()).toEqual([]);
    await h.engine.track({ userId: 'c1', event: 'Signed Up', properties: { note: 'x'.repeat(30_000) } });
    expect((await h.engine.customer('c1')).recentEvents).toHaveLength(1);
    // A limit no call could meet is refused before the engine opens anything.
    expect(() =>
      createEngine({
        redis: h.redis,
        prefix: h.prefix,
        journeys: [],
        messages: { has: () => true },
        maxCallBytes: 10,
      }),
    ).toThrow(/maxCallBytes: 10 is not a whole number of bytes from 1024 to 104857600/);
  });
});
