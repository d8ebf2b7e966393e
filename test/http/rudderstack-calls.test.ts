import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { onboarding } from '../fixtures/journeys/onboarding.js';
import { httpHarness, type HttpHarness } from '../support/http.js';
import { eventually } from '../support/redis.js';

/** Calls shaped as RudderStack's HTTP API and SDKs send them to `/v1/*` with the write key. */
describe('RudderStack-shaped calls', () => {
  let h: HttpHarness;
  beforeEach(async () => {
    h = await httpHarness({ journeys: [onboarding] });
  });
  afterEach(() => h.close());

  const post = (url: string, payload: object) =>
    h.app.inject({ method: 'POST', url, payload, headers: h.auth });

  const profileOf = (userId: string, has: string) =>
    eventually(async () => {
      const { profile } = await h.engine.customer(userId);
      return has in profile ? profile : undefined;
    });

  it("takes an identify's traits from context.traits, where RudderStack sends them, beneath its own traits", async () => {
    // RudderStack's HTTP API example: the traits in context.traits only.
    const alone = await post('/v1/identify', {
      userId: 'rs-1',
      context: { traits: { email: 'rs1@example.com', firstName: 'Ro' }, library: { name: 'http' } },
    });
    expect(alone.statusCode).toBe(200);
    expect(await profileOf('rs-1', 'email')).toEqual({ email: 'rs1@example.com', firstName: 'Ro' });

    // Its Node library sends them in both places; a trait of `traits` wins, in a batch too.
    const both = await post('/v1/batch', {
      batch: [
        {
          type: 'identify',
          userId: 'rs-2',
          traits: { plan: 'pro' },
          context: { traits: { plan: 'free', email: 'rs2@example.com', nickname: null } },
        },
      ],
    });
    expect(both.statusCode).toBe(200);
    expect(await profileOf('rs-2', 'email')).toEqual({ plan: 'pro', email: 'rs2@example.com' });
  });

  it('checks the traits of context.traits as those of traits, and stores nothing of a call they fail', async () => {
    const res = await post('/v1/batch', {
      batch: [
        { type: 'identify', userId: 'rs-3', traits: { firstName: 'Ro' } },
        { type: 'identify', userId: 'rs-3', context: { traits: { email: 'Ro <ro@example.com>' } } },
      ],
    });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({
      error: { issues: [{ field: 'body.batch.1.context.traits.email' }] },
    });
    expect(await h.redis.keys(`${h.prefix}:c:*`)).toEqual([]);
    // A context without traits of its own, as a PHP caller's empty `[]`, is no reason to refuse a call.
    for (const context of [[], { traits: [] }, 'web'])
      expect((await post('/v1/identify', { userId: 'rs-3', traits: {}, context })).statusCode).toBe(200);
  });

  it("leaves a track call's context.traits out of the profile, as Segment does", async () => {
    await post('/v1/identify', { userId: 'rs-4', traits: { plan: 'pro' } });
    await post('/v1/track', {
      userId: 'rs-4',
      event: 'Signed Up',
      context: { traits: { plan: 'free' } },
    });
    const customer = await eventually(async () => {
      const c = await h.engine.customer('rs-4');
      return c.instances.length > 0 ? c : undefined;
    });
    expect(customer.profile).toEqual({ plan: 'pro' });
  });

  it("dates a call by its originalTimestamp, corrected by its sentAt, when it has no timestamp, as RudderStack's libraries send it", async () => {
    const now = h.clock.now();
    const iso = (ms: number) => new Date(ms).toISOString();
    // A batch a phone 10 minutes slow queued for two hours: each call stamped when it happened.
    const phone = now - 600_000;
    const res = await post('/v1/batch', {
      sentAt: iso(phone),
      batch: [
        {
          type: 'identify',
          userId: 'rs-5',
          messageId: 'o-1',
          originalTimestamp: iso(phone - 7_200_000),
          context: { traits: { plan: 'pro' } },
          channel: 'mobile',
        },
        {
          type: 'track',
          userId: 'rs-5',
          event: 'Signed Up',
          messageId: 'o-2',
          originalTimestamp: iso(phone - 3_600_000),
          sentAt: iso(phone),
        },
        // A timestamp the caller gave wins over the originalTimestamp the library stamped.
        {
          type: 'track',
          userId: 'rs-5',
          event: 'Viewed',
          messageId: 'o-3',
          timestamp: iso(phone - 60_000),
          originalTimestamp: iso(phone),
        },
      ],
    });
    expect(res.statusCode).toBe(200);
    const { recentEvents } = await h.engine.customer('rs-5');
    expect(Object.fromEntries(recentEvents.map((e) => [e.id, e.timestamp]))).toEqual({
      'o-1': now - 7_200_000,
      'o-2': now - 3_600_000,
      'o-3': now - 60_000,
    });
    // Without a sentAt, it is taken as it is.
    await post('/v1/track', {
      userId: 'rs-5',
      event: 'Viewed',
      messageId: 'o-4',
      originalTimestamp: iso(phone),
    });
    expect((await h.engine.customer('rs-5')).recentEvents[0]).toMatchObject({ id: 'o-4', timestamp: phone });
    // And it is checked as a timestamp is.
    const bad = await post('/v1/identify', { userId: 'rs-5', originalTimestamp: 'yesterday' });
    expect(bad.statusCode).toBe(400);
    expect(bad.json()).toMatchObject({ error: { issues: [{ field: 'body.originalTimestamp' }] } });
  });

  it("keeps an identify's context.timezone, which analytics.js sends on every call, as the deviceTimezone trait", async () => {
    const res = await post('/v1/batch', {
      batch: [
        {
          type: 'identify',
          userId: 'tz-1',
          traits: { email: 'tz1@example.com' },
          context: { timezone: ' Asia/Kathmandu ' },
        },
        // The sender's own trait wins; a zone that is none, or not a string, is passed over, not refused.
        {
          type: 'identify',
          userId: 'tz-2',
          traits: { deviceTimezone: 'Europe/Paris' },
          context: { timezone: 'Asia/Tokyo' },
        },
        {
          type: 'identify',
          userId: 'tz-3',
          traits: { email: 'tz3@example.com' },
          context: { timezone: 'GMT+2 (CEST)' },
        },
        {
          type: 'identify',
          userId: 'tz-4',
          traits: { email: 'tz4@example.com' },
          context: { timezone: 7200 },
        },
      ],
    });
    expect(res.statusCode).toBe(200);
    expect(await profileOf('tz-1', 'email')).toEqual({
      email: 'tz1@example.com',
      deviceTimezone: 'Asia/Kathmandu',
    });
    expect(await profileOf('tz-2', 'deviceTimezone')).toEqual({ deviceTimezone: 'Europe/Paris' });
    expect(await profileOf('tz-3', 'email')).toEqual({ email: 'tz3@example.com' });
    expect(await profileOf('tz-4', 'email')).toEqual({ email: 'tz4@example.com' });
    // A track's context changes no trait.
    await post('/v1/track', { userId: 'tz-3', event: 'Viewed', context: { timezone: 'Asia/Tokyo' } });
    await post('/v1/identify', { userId: 'tz-3', traits: { plan: 'pro' } });
    expect(await profileOf('tz-3', 'plan')).toEqual({ email: 'tz3@example.com', plan: 'pro' });
  });
});
