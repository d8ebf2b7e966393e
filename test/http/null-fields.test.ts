import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { comeback } from '../fixtures/journeys/comeback.js';
import { onboarding } from '../fixtures/journeys/onboarding.js';
import { httpHarness, type HttpHarness } from '../support/http.js';

describe('optional fields sent as null', () => {
  let h: HttpHarness;
  beforeEach(async () => {
    h = await httpHarness({ journeys: [onboarding, comeback], workers: false });
  });
  afterEach(() => h.close());

  const post = (url: string, payload: object) =>
    h.app.inject({ method: 'POST', url, payload, headers: h.auth });

  it('takes them as absent, as Segment does, where a serialiser writes every field of a call', async () => {
    // As .NET's serialiser writes a call's class by default: every field it lacks as null.
    const none = { messageId: null, timestamp: null, originalTimestamp: null, sentAt: null, context: null };
    const res = await post('/v1/batch', {
      batch: [
        { type: 'identify', userId: 'nu', anonymousId: null, traits: null, ...none },
        { type: 'track', userId: 'nu', anonymousId: null, event: 'Signed Up', properties: null, ...none },
        { type: 'track', userId: 'nu', event: 'Viewed', properties: null, messageId: 'nu-1' },
        { type: 'page', userId: 'nu', name: 'Home', properties: null, ...none },
      ],
    });
    expect(res.statusCode).toBe(200);
    const results = res.json<{ results: Array<{ duplicate?: boolean; ignored?: boolean }> }>().results;
    expect(results.map((r) => r.duplicate ?? r.ignored)).toEqual([false, false, false, true]);
    const { recentEvents } = await h.engine.customer('nu');
    expect(recentEvents).toEqual([
      expect.objectContaining({ kind: 'track', id: 'nu-1', name: 'Viewed', properties: {} }),
      expect.objectContaining({ kind: 'track', name: 'Signed Up', properties: {}, timestamp: h.clock.now() }),
      expect.objectContaining({ kind: 'identify', traits: {}, timestamp: h.clock.now() }),
    ]);

    // A field a call needs is still needed.
    const refused = await post('/v1/batch', { batch: [{ type: 'track', userId: 'nu', event: null }] });
    expect(refused.statusCode).toBe(400);
    expect(refused.json()).toMatchObject({ error: { issues: [{ field: 'body.batch.0.event' }] } });
  });

  it("takes them as absent in a trigger and a consent answer, whose optional fields the README lists as a call's", async () => {
    const triggered = await post('/v1/journeys/comeback/trigger', {
      userId: 'nt',
      data: { coupon: 'BACK10' },
      messageId: null,
      timestamp: null,
    });
    expect(triggered.statusCode).toBe(202);
    expect(triggered.json()).toMatchObject({ duplicate: false });

    const answered = await post('/v1/customers/nt/consent', {
      channel: 'email',
      topic: 'marketing',
      granted: true,
      source: null,
      textVersion: null,
      timestamp: null,
    });
    expect(answered.statusCode).toBe(200);
    expect(answered.json()).toEqual({
      record: { channel: 'email', topic: 'marketing', state: 'granted', at: h.clock.now(), source: 'api' },
    });
  });
  it('takes a consent trait, or any part of one, sent as null as no answer, as a null trait is none', async () => {
    // As a typed traits class with a consent field serialises when the sign-up form asked nothing.
    const nothing = await post('/v1/batch', {
      batch: [
        { type: 'identify', userId: 'nc', traits: { firstName: 'Nia', consent: null }, messageId: 'nc-1' },
        { type: 'track', userId: 'nc', event: 'Viewed', messageId: 'nc-2' },
      ],
    });
    expect(nothing.statusCode).toBe(200);
    expect(await h.engine.consent.store.history('nc')).toEqual([]);

    // A channel or topic it has no answer for, and an answer's optional fields, the same.
    const some = await post('/v1/identify', {
      userId: 'nc',
      traits: {
        consent: {
          email: { marketing: { granted: true, source: null, textVersion: null }, transactional: null },
          sms: null,
        },
      },
    });
    expect(some.statusCode).toBe(200);
    expect(await h.engine.consent.store.history('nc')).toEqual([
      expect.objectContaining({ channel: 'email', topic: 'marketing', state: 'granted', source: 'identify' }),
    ]);
    // A null answer does not undo one given before: consent is withdrawn with false, not forgotten.
    await post('/v1/identify', { userId: 'nc', traits: { consent: { email: { marketing: null } } } });
    expect(await h.engine.consent.store.all('nc')).toEqual([
      expect.objectContaining({ channel: 'email', topic: 'marketing', state: 'granted' }),
    ]);
  });
});
