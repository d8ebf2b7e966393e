import { afterEach, describe, expect, it } from 'vitest';
import { createConsentToken } from '../../engine/index.js';
import { notify } from '../fixtures/journeys/notify.js';
import { httpHarness, UNSUBSCRIBE_SECRET, type HttpHarness } from '../support/http.js';
import { eventually } from '../support/redis.js';

describe('consent over HTTP', () => {
  let h: HttpHarness;
  afterEach(() => h.close());

  it('records a consent trait of identify with its evidence, keeps it out of the traits, and names a bad field', async () => {
    h = await httpHarness({ journeys: [notify] });
    const res = await h.app.inject({
      method: 'POST',
      url: '/v1/identify',
      headers: h.auth,
      payload: {
        userId: 'u1',
        timestamp: '2026-11-20T08:00:00Z',
        traits: {
          email: 'u1@example.com',
          consent: { sms: { marketing: { granted: true, source: 'checkout', textVersion: 'sms-v2' } } },
        },
      },
    });
    expect(res.statusCode).toBe(200);
    const customer = await eventually(async () => {
      const c = await h.app.inject({ url: '/v1/customers/u1', headers: h.auth });
      const body = c.json<{ traits?: Record<string, unknown>; consent: unknown[] }>();
      return c.statusCode === 200 && body.traits?.email ? body : undefined;
    });
    expect(customer.traits).toEqual({ email: 'u1@example.com' });
    expect(customer.consent).toEqual([
      {
        channel: 'sms',
        topic: 'marketing',
        state: 'granted',
        at: Date.parse('2026-11-20T08:00:00Z'),
        source: 'checkout',
        textVersion: 'sms-v2',
      },
    ]);

    const bad = await h.app.inject({
      method: 'POST',
      url: '/v1/identify',
      headers: h.auth,
      payload: { userId: 'u1', traits: { consent: { sms: { marketing: 'yes' } } } },
    });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error.issues.map((i: { field: string }) => i.field)).toContain(
      'body.traits.consent.sms.marketing',
    );
  });

  it('does not record the consent trait of a retried identify again: a withdrawal since holds', async () => {
    h = await httpHarness({ journeys: [notify], workers: false });
    const identify = {
      userId: 'u4',
      messageId: 'signup-form-1',
      timestamp: '2026-11-20T08:00:00Z',
      traits: { consent: { email: { marketing: true } } },
    };
    const send = () =>
      h.app.inject({ method: 'POST', url: '/v1/identify', headers: h.auth, payload: identify });
    expect((await send()).json()).toMatchObject({ duplicate: false });
    h.clock.advance('1h');
    await h.app.inject({
      method: 'POST',
      url: '/v1/customers/u4/consent',
      headers: h.auth,
      payload: { channel: 'email', topic: 'marketing', granted: false, source: 'preference centre' },
    });
    // The client's retry of the first call, say after a timeout, is accepted and ignored as a whole.
    const retry = await send();
    expect(retry.statusCode).toBe(200);
    expect(retry.json()).toMatchObject({ eventId: 'signup-form-1', duplicate: true });
    const consent = (await h.app.inject({ url: '/v1/customers/u4/consent', headers: h.auth })).json();
    expect(consent.current).toMatchObject([
      { channel: 'email', state: 'denied', source: 'preference centre' },
    ]);
    expect(consent.history.map((r: { state: string }) => r.state)).toEqual(['denied', 'granted']);
  });

  it("records a batch's consent traits in batch order, whether or not each call has a messageId", async () => {
    h = await httpHarness({ journeys: [notify], workers: false });
    // A sign-up form's grant, then the customer's withdrawal from a call without a messageId.
    const batch = [
      {
        type: 'identify',
        userId: 'u6',
        messageId: 'grant-1',
        traits: { consent: { email: { marketing: true } } },
      },
      { type: 'identify', userId: 'u6', traits: { consent: { email: { marketing: false } } } },
    ];
    const res = await h.app.inject({ method: 'POST', url: '/v1/batch', headers: h.auth, payload: { batch } });
    expect(res.statusCode).toBe(200);
    expect(await h.engine.consent.store.get('u6', 'email', 'marketing')).toMatchObject({ state: 'denied' });
  });

  it('records the consent trait of a retried identify whose first try stored only the event', async () => {
    h = await httpHarness({ journeys: [notify], workers: false });
    // The first try's event reached the inbox and its consent did not (the process died between).
    await h.engine.identify({ userId: 'u5', messageId: 'm-5', traits: {} });
    const retry = await h.app.inject({
      method: 'POST',
      url: '/v1/identify',
      headers: h.auth,
      payload: { userId: 'u5', messageId: 'm-5', traits: { consent: { sms: { marketing: true } } } },
    });
    expect(retry.json()).toMatchObject({ duplicate: true });
    expect(await h.engine.consent.store.get('u5', 'sms', 'marketing')).toMatchObject({ state: 'granted' });
  });

  it('refuses an identify dated past 9999, whose consent trait would be evidence no date can show', async () => {
    h = await httpHarness({ journeys: [notify], workers: false });
    // Epoch microseconds read as milliseconds, and a number that is no Date at all: a refusal
    // recorded at the latter broke every later marketing send to the customer, whose reason names
    // when consent was refused.
    for (const timestamp of [1_795_428_000_000_000, 8.64e15 + 1]) {
      const refused = await h.app.inject({
        method: 'POST',
        url: '/v1/identify',
        headers: h.auth,
        payload: { userId: 'u6', timestamp, traits: { consent: { email: { marketing: false } } } },
      });
      expect(refused.statusCode).toBe(400);
      expect(refused.json().error.issues).toEqual([
        {
          field: 'body.timestamp',
          message: 'an ISO 8601 date-time with offset, or epoch milliseconds, from 1970 to 9999',
        },
      ]);
    }
    expect(await h.engine.consent.store.all('u6')).toEqual([]);
  });

  it('sets consent through the API and shows what holds and every change', async () => {
    h = await httpHarness({ journeys: [notify], workers: false });
    const set = (granted: boolean) =>
      h.app.inject({
        method: 'POST',
        url: '/v1/customers/u2/consent',
        headers: h.auth,
        payload: { channel: 'sms', topic: 'marketing', granted, source: 'call centre', textVersion: 'v1' },
      });
    expect((await set(true)).json()).toEqual({
      record: {
        channel: 'sms',
        topic: 'marketing',
        state: 'granted',
        at: h.clock.now(),
        source: 'call centre',
        textVersion: 'v1',
      },
    });
    h.clock.advance('1d');
    await set(false);
    const read = await h.app.inject({ url: '/v1/customers/u2/consent', headers: h.auth });
    expect(read.json().current).toMatchObject([{ state: 'denied', at: h.clock.now() }]);
    expect(read.json().history.map((r: { state: string }) => r.state)).toEqual(['denied', 'granted']);

    const wrong = await h.app.inject({
      method: 'POST',
      url: '/v1/customers/u2/consent',
      headers: h.auth,
      payload: { channel: 'fax', topic: 'marketing', granted: true },
    });
    expect(wrong.statusCode).toBe(400);
    expect(wrong.json().error.issues[0].field).toBe('body.channel');
  });

  it('keeps a later answer when an earlier one arrives late: a delayed grant does not undo an unsubscribe', async () => {
    h = await httpHarness({ journeys: [notify], workers: false });
    const answer = (granted: boolean, timestamp: string) =>
      h.app.inject({
        method: 'POST',
        url: '/v1/customers/u4/consent',
        headers: h.auth,
        payload: { channel: 'email', topic: 'marketing', granted, timestamp },
      });
    await answer(false, '2026-11-22T10:00:00Z');
    // The app's grant from the day before, sent late (a retried job, a backfill).
    const late = await answer(true, '2026-11-21T10:00:00Z');
    expect(late.statusCode).toBe(200);
    expect(late.json().record).toMatchObject({ state: 'denied', at: Date.parse('2026-11-22T10:00:00Z') });
    await h.app.inject({
      method: 'POST',
      url: '/v1/identify',
      headers: h.auth,
      payload: {
        userId: 'u4',
        timestamp: '2026-11-20T10:00:00Z',
        traits: { consent: { email: { marketing: true } } },
      },
    });
    expect(await h.engine.consent.store.all('u4')).toMatchObject([{ state: 'denied' }]);
    // A later answer still holds over it.
    await answer(true, '2026-11-23T09:00:00Z');
    expect(await h.engine.consent.store.all('u4')).toMatchObject([{ state: 'granted' }]);

    // A source holding half a UTF-16 pair, stored as JSON writes it ("\ud800"), is read past.
    const odd = { channel: 'sms', topic: 'marketing', granted: true, source: 'form \ud800' };
    for (const granted of [true, false]) {
      const res = await h.app.inject({
        method: 'POST',
        url: '/v1/customers/u4/consent',
        headers: h.auth,
        payload: { ...odd, granted },
      });
      expect(res.statusCode).toBe(200);
    }
  });

  it('takes an answer dated ahead of its arrival as given on arrival, so a later withdrawal still holds over it', async () => {
    h = await httpHarness({ journeys: [notify], workers: false });
    const now = h.clock.now();
    // A server whose clock runs a day fast, sending no sentAt to correct it by.
    await h.app.inject({
      method: 'POST',
      url: '/v1/identify',
      headers: h.auth,
      payload: {
        userId: 'u9',
        timestamp: new Date(now + 86_400_000).toISOString(),
        traits: { consent: { email: { marketing: true }, sms: { marketing: true } } },
      },
    });
    expect(await h.engine.consent.store.all('u9')).toMatchObject([
      { channel: 'email', state: 'granted', at: now },
      { channel: 'sms', state: 'granted', at: now },
    ]);
    h.clock.advance(60_000);
    // The customer withdraws a minute later: through the preference centre, and identify.
    const withdrawn = await h.app.inject({
      method: 'POST',
      url: '/v1/customers/u9/consent',
      headers: h.auth,
      payload: { channel: 'email', topic: 'marketing', granted: false },
    });
    expect(withdrawn.json().record).toMatchObject({ state: 'denied', at: now + 60_000 });
    await h.app.inject({
      method: 'POST',
      url: '/v1/identify',
      headers: h.auth,
      payload: { userId: 'u9', traits: { consent: { sms: { marketing: false } } } },
    });
    expect(await h.engine.consent.store.all('u9')).toMatchObject([
      { channel: 'email', state: 'denied' },
      { channel: 'sms', state: 'denied' },
    ]);
  });

  it("refuses a caller's answer under a source only Chorus records, through the API and identify alike", async () => {
    h = await httpHarness({ journeys: [notify], workers: false });
    const spoofed = await h.app.inject({
      method: 'POST',
      url: '/v1/customers/u3/consent',
      headers: h.auth,
      payload: { channel: 'email', topic: 'marketing', granted: true, source: 'Double opt-in confirmation' },
    });
    expect(spoofed.statusCode).toBe(400);
    expect(spoofed.json().error.issues).toEqual([
      {
        field: 'body.source',
        message: expect.stringMatching(/recorded only by Chorus itself.*name where this answer was given/),
      },
    ]);
    const viaIdentify = await h.app.inject({
      method: 'POST',
      url: '/v1/identify',
      headers: h.auth,
      payload: {
        userId: 'u3',
        traits: { consent: { email: { marketing: { granted: false, source: 'one-click unsubscribe' } } } },
      },
    });
    expect(viaIdentify.statusCode).toBe(400);
    expect(viaIdentify.json().error.issues[0].field).toBe('body.traits.consent.email.marketing.source');
    expect(await h.engine.consent.store.all('u3')).toEqual([]);
  });

  it('gives a double opt-in link its 7 days from when it is made, however long ago the answer was given', async () => {
    h = await httpHarness({ journeys: [notify], workers: false, doubleOptIn: true });
    // A sign-up a mobile library queued offline, sent eight days late with its own time.
    const given = h.clock.now() - 8 * 86_400_000;
    const asked = await h.app.inject({
      method: 'POST',
      url: '/v1/customers/u5/consent',
      headers: h.auth,
      payload: {
        channel: 'email',
        topic: 'marketing',
        granted: true,
        timestamp: new Date(given).toISOString(),
      },
    });
    const { record, confirmUrl } = asked.json<{ record: { at: number }; confirmUrl: string }>();
    expect(record.at).toBe(given);
    const path = confirmUrl.slice('https://chorus.test'.length);

    h.clock.advance('6d');
    const confirmed = await h.app.inject({ method: 'POST', url: path });
    expect(confirmed.json()).toMatchObject({ confirmed: true, record: { state: 'granted' } });
    h.clock.advance('25h');
    expect((await h.app.inject({ method: 'POST', url: path })).json()).toMatchObject({
      error: { code: 'CHORUS_CONSENT_TOKEN_INVALID' },
    });
  });

  it("lifts the address's earlier unsubscribe once a double opt-in grant is confirmed, not while it is pending", async () => {
    h = await httpHarness({ journeys: [notify], doubleOptIn: true });
    await h.engine.identify({ userId: 'u6', traits: { email: 'u6@example.com' } });
    await eventually(async () => (await h.engine.customer('u6')).profile.email !== undefined);
    const address = { kind: 'email', value: 'u6@example.com' } as const;
    await h.engine.suppressions.add(address, {
      reason: 'unsubscribe',
      at: h.clock.now(),
      source: 'one-click unsubscribe',
    });
    h.clock.advance('1d');
    const asked = await h.app.inject({
      method: 'POST',
      url: '/v1/customers/u6/consent',
      headers: h.auth,
      payload: { channel: 'email', topic: 'marketing', granted: true, source: 'newsletter form' },
    });
    expect(asked.json()).toMatchObject({ record: { state: 'pending' } });
    expect(await h.engine.suppressions.check(address)).toHaveLength(1);

    const path = asked.json<{ confirmUrl: string }>().confirmUrl.slice('https://chorus.test'.length);
    h.clock.advance('1h');
    expect((await h.app.inject({ method: 'POST', url: path })).json()).toMatchObject({ confirmed: true });
    expect(await h.engine.suppressions.check(address)).toEqual([]);
  });

  it('takes a consent or provider report timestamp in epoch ms as well as ISO 8601, as ingest does', async () => {
    h = await httpHarness({ journeys: [notify], workers: false });
    const post = (url: string, payload: object) =>
      h.app.inject({ method: 'POST', url, headers: h.auth, payload });
    const given = Date.parse('2026-11-20T08:00:00Z');
    const consent = { channel: 'email', topic: 'marketing', granted: true };
    expect((await post('/v1/customers/u4/consent', { ...consent, timestamp: given })).json()).toMatchObject({
      record: { state: 'granted', at: given },
    });
    const bounce = { type: 'bounce', bounceType: 'hard', channel: 'email', address: 'u4@example.com' };
    expect((await post('/v1/delivery-events', { ...bounce, timestamp: given })).statusCode).toBe(200);
    expect(await h.engine.suppressions.check({ kind: 'email', value: 'u4@example.com' })).toMatchObject([
      { reason: 'hard-bounce', at: given },
    ]);

    // Anything else is named with the forms it may take, and a number past 9999 is no time at all.
    for (const [url, payload] of [
      ['/v1/customers/u4/consent', consent],
      ['/v1/delivery-events', bounce],
    ] as const)
      for (const timestamp of ['yesterday', 1e15]) {
        const refused = await post(url, { ...payload, timestamp });
        expect(refused.statusCode).toBe(400);
        expect(refused.json().error.issues).toEqual([
          {
            field: 'body.timestamp',
            message: 'an ISO 8601 date-time with offset, or epoch milliseconds, from 1970 to 9999',
          },
        ]);
      }
  });

  it('shows and exports a customer known only by a consent answer, until they are erased', async () => {
    h = await httpHarness({ journeys: [notify] });
    // A sign-up form may record its checkbox before any event names the customer.
    const set = await h.app.inject({
      method: 'POST',
      url: '/v1/customers/early/consent',
      headers: h.auth,
      payload: { channel: 'sms', topic: 'marketing', granted: true, source: 'form' },
    });
    expect(set.statusCode).toBe(200);
    const view = await h.app.inject({ url: '/v1/customers/early', headers: h.auth });
    expect(view.statusCode).toBe(200);
    expect(view.json()).toMatchObject({ userId: 'early', consent: [{ channel: 'sms', state: 'granted' }] });
    const exported = await h.app.inject({ url: '/v1/customers/early/export', headers: h.auth });
    expect(exported.statusCode).toBe(200);
    expect(exported.json()).toMatchObject({ consent: [{ channel: 'sms', source: 'form' }] });

    await h.app.inject({ method: 'DELETE', url: '/v1/customers/early', headers: h.auth });
    expect((await h.app.inject({ url: '/v1/customers/early/export', headers: h.auth })).statusCode).toBe(404);
    expect((await h.app.inject({ url: '/v1/customers/early', headers: h.auth })).statusCode).toBe(404);
  });

  it.each([false, true])(
    'applies the consent answers of a batch in its order: a later refusal is not undone by an earlier grant (double opt-in %s)',
    async (doubleOptIn) => {
      h = await httpHarness({ journeys: [notify], workers: false, doubleOptIn });
      const batch = await h.app.inject({
        method: 'POST',
        url: '/v1/batch',
        headers: h.auth,
        payload: {
          batch: [
            // The sign-up form: SMS and email marketing granted.
            {
              type: 'identify',
              userId: 'u5',
              timestamp: '2026-11-20T08:00:00Z',
              traits: { consent: { sms: { marketing: true }, email: { marketing: true } } },
            },
            // Two days later the customer refused email marketing.
            {
              type: 'identify',
              userId: 'u5',
              timestamp: '2026-11-22T08:00:00Z',
              traits: { consent: { email: { marketing: false } } },
            },
          ],
        },
      });
      expect(batch.statusCode).toBe(200);
      const store = h.engine.consent.store;
      expect(await store.get('u5', 'email', 'marketing')).toMatchObject({
        state: 'denied',
        at: Date.parse('2026-11-22T08:00:00Z'),
      });
      expect((await store.get('u5', 'sms', 'marketing'))?.state).toBe('granted');
      expect((await store.history('u5')).map((r) => `${r.channel} ${r.state}`)).toEqual([
        'email denied',
        `email ${doubleOptIn ? 'pending' : 'granted'}`,
        'sms granted',
      ]);
    },
  );

  it('keeps an email marketing grant pending under double opt-in until its signed link is confirmed', async () => {
    h = await httpHarness({ journeys: [notify], doubleOptIn: true });
    const res = await h.app.inject({
      method: 'POST',
      url: '/v1/customers/u3/consent',
      headers: h.auth,
      payload: {
        channel: 'email',
        topic: 'marketing',
        granted: true,
        source: 'newsletter form',
        textVersion: 'nl-4',
      },
    });
    const { record, confirmUrl } = res.json();
    expect(record).toMatchObject({ state: 'pending', source: 'newsletter form' });
    expect(confirmUrl).toMatch(/^https:\/\/chorus\.test\/v1\/consent\/confirm\?token=/);
    // A journey on this event sends the confirmation email with the link.
    const requested = await eventually(async () =>
      (await h.engine.customer('u3')).recentEvents.find(
        (e) => e.kind === 'track' && e.name === 'Consent Requested',
      ),
    );
    expect(requested).toMatchObject({ properties: { channel: 'email', topic: 'marketing', confirmUrl } });

    const path = confirmUrl.slice('https://chorus.test'.length);
    const page = await h.app.inject(path);
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain('<form method="post"');
    expect((await h.engine.consent.store.get('u3', 'email', 'marketing'))?.state).toBe('pending');

    h.clock.advance('2h');
    for (let i = 0; i < 2; i++) {
      const confirmed = await h.app.inject({ method: 'POST', url: path });
      expect(confirmed.json()).toEqual({
        confirmed: true,
        record: {
          channel: 'email',
          topic: 'marketing',
          state: 'granted',
          at: h.clock.now(),
          source: 'double opt-in confirmation',
          textVersion: 'nl-4',
        },
      });
    }
    expect((await h.engine.consent.store.history('u3')).map((r) => r.state)).toEqual(['granted', 'pending']);

    const forged = createConsentToken('another-secret-16chars', {
      customerId: 'u3',
      channel: 'email',
      topic: 'marketing',
      exp: h.clock.now() + 1000,
    });
    const expired = createConsentToken(UNSUBSCRIBE_SECRET, {
      customerId: 'u3',
      channel: 'email',
      topic: 'marketing',
      exp: h.clock.now() - 1,
    });
    for (const token of [forged, expired]) {
      const refused = await h.app.inject({
        method: 'POST',
        url: `/v1/consent/confirm?token=${encodeURIComponent(token)}`,
      });
      expect(refused.statusCode).toBe(400);
      expect(refused.json().error.code).toBe('CHORUS_CONSENT_TOKEN_INVALID');
    }
  });

  it('does not ask again while an earlier request’s link still holds, so its link keeps working', async () => {
    h = await httpHarness({ journeys: [notify], doubleOptIn: true });
    const ask = () =>
      h!.app.inject({
        method: 'POST',
        url: '/v1/customers/u5/consent',
        headers: h!.auth,
        payload: { channel: 'email', topic: 'marketing', granted: true, source: 'login' },
      });
    const first = (await ask()).json<{ record: { at: number }; confirmUrl: string }>();
    // The app sends the same answer at the next login: no second confirmation email.
    h.clock.advance('2h');
    const again = (await ask()).json<{ record: { at: number }; confirmUrl?: string }>();
    expect(again.confirmUrl).toBeUndefined();
    expect(again.record.at).toBe(first.record.at);
    const requests = async () =>
      (await h!.engine.customer('u5')).recentEvents.filter(
        (e) => e.kind === 'track' && e.name === 'Consent Requested',
      ).length;
    await eventually(async () => (await requests()) === 1);
    const confirmed = await h.app.inject({
      method: 'POST',
      url: first.confirmUrl.slice('https://chorus.test'.length),
    });
    expect(confirmed.json()).toMatchObject({ confirmed: true });
  });

  it('asks again once the earlier request’s link has run out', async () => {
    h = await httpHarness({ journeys: [notify], doubleOptIn: true });
    const ask = () =>
      h!.app.inject({
        method: 'POST',
        url: '/v1/customers/u6/consent',
        headers: h!.auth,
        payload: { channel: 'email', topic: 'marketing', granted: true, source: 'login' },
      });
    expect((await ask()).json()).toHaveProperty('confirmUrl');
    h.clock.advance('8d');
    expect((await ask()).json()).toHaveProperty('confirmUrl');
  });

  it('confirms with a link only the request it was sent for, not a later one for another address', async () => {
    h = await httpHarness({ journeys: [notify], doubleOptIn: true });
    const ask = async () => {
      const res = await h!.app.inject({
        method: 'POST',
        url: '/v1/customers/u4/consent',
        headers: h!.auth,
        payload: { channel: 'email', topic: 'marketing', granted: true, source: 'newsletter form' },
      });
      expect(res.statusCode).toBe(200);
      return res.json<{ confirmUrl: string }>().confirmUrl.slice('https://chorus.test'.length);
    };
    await h.engine.identify({ userId: 'u4', traits: { email: 'old@example.com' } });
    const oldLink = await ask();
    // The customer withdraws, moves to another address and asks again: a new link goes there.
    h.clock.advance('1h');
    const withdrawn = await h.app.inject({
      method: 'POST',
      url: '/v1/customers/u4/consent',
      headers: h.auth,
      payload: { channel: 'email', topic: 'marketing', granted: false, source: 'preferences' },
    });
    expect(withdrawn.statusCode).toBe(200);
    await h.engine.identify({ userId: 'u4', traits: { email: 'new@example.com' } });
    h.clock.advance('1h');
    const newLink = await ask();

    const stale = await h.app.inject({ method: 'POST', url: oldLink, headers: { accept: 'text/html' } });
    expect(stale.statusCode).toBe(200);
    expect(stale.body).toContain('This link was replaced by a newer one');
    const staleJson = await h.app.inject({ method: 'POST', url: oldLink });
    expect(staleJson.json()).toMatchObject({ confirmed: false, record: { state: 'pending' } });
    expect((await h.engine.consent.store.get('u4', 'email', 'marketing'))?.state).toBe('pending');

    const fresh = await h.app.inject({ method: 'POST', url: newLink });
    expect(fresh.json()).toMatchObject({ confirmed: true, record: { state: 'granted' } });
  });
});

describe('bounce and complaint reports', () => {
  let h: HttpHarness;
  afterEach(() => h.close());

  const report = (payload: object, headers: Record<string, string> = h.auth) =>
    h.app.inject({ method: 'POST', url: '/v1/delivery-events', headers, payload });

  it('suppresses an address on a hard bounce or a complaint, not on a soft bounce, and names a bad field', async () => {
    h = await httpHarness({ journeys: [notify], workers: false });
    expect(
      (
        await report({ type: 'bounce', bounceType: 'soft', channel: 'email', address: 'a@example.com' })
      ).json(),
    ).toEqual({
      suppressed: false,
    });
    expect(await h.engine.suppressions.check({ kind: 'email', value: 'a@example.com' })).toEqual([]);
    expect(
      (
        await report({
          type: 'bounce',
          bounceType: 'hard',
          channel: 'email',
          address: 'A@example.com',
          source: 'ses',
        })
      ).json(),
    ).toEqual({ suppressed: true, reason: 'hard-bounce' });
    expect((await report({ type: 'complaint', channel: 'sms', address: '+1 555 0100' })).json()).toEqual({
      suppressed: true,
      reason: 'complaint',
    });
    expect(await h.engine.suppressions.check({ kind: 'email', value: 'a@example.com' })).toEqual([
      { reason: 'hard-bounce', at: h.clock.now(), source: 'ses' },
    ]);
    expect(await h.engine.suppressions.check({ kind: 'phone', value: '+15550100' })).toEqual([
      { reason: 'complaint', at: h.clock.now(), source: 'delivery-events' },
    ]);

    const lookUp = await h.app.inject({
      url: '/v1/suppressions?channel=sms&address=%2B1%20555%200100',
      headers: h.auth,
    });
    expect(lookUp.json()).toEqual({
      suppressions: [{ reason: 'complaint', at: h.clock.now(), source: 'delivery-events' }],
    });
    const lift = await h.app.inject({
      method: 'DELETE',
      url: '/v1/suppressions?channel=sms&address=%2B15550100',
      headers: h.auth,
    });
    expect(lift.json()).toEqual({ lifted: 1 });
    expect(await h.engine.suppressions.check({ kind: 'phone', value: '+15550100' })).toEqual([]);

    // Any address an email can be sent to can be reported bouncing: RFC 5322 characters such as
    // `&` and `=`, and Unicode mailboxes and domains.
    for (const address of ['first&last@example.com', 'user=tag@example.com', 'josé@bücher.de']) {
      const bounced = await report({ type: 'bounce', bounceType: 'hard', channel: 'email', address });
      expect(bounced.json()).toEqual({ suppressed: true, reason: 'hard-bounce' });
      expect(await h.engine.suppressions.check({ kind: 'email', value: address })).toMatchObject([
        { reason: 'hard-bounce' },
      ]);
    }

    const notEmail = await report({ type: 'complaint', channel: 'email', address: '+15550100' });
    expect(notEmail.statusCode).toBe(400);
    expect(notEmail.json().error.issues[0].field).toBe('body.address');
    const noKind = await report({ type: 'bounce', channel: 'email', address: 'a@example.com' });
    expect(noKind.statusCode).toBe(400);
    expect(noKind.json().error.issues[0].field).toBe('body.bounceType');
    expect((await report({ type: 'complaint', channel: 'sms', address: '+15550100' }, {})).statusCode).toBe(
      401,
    );
  });

  it("takes a push provider's report: a hard bounce suppresses the token, a complaint is not a push report", async () => {
    h = await httpHarness({ journeys: [notify], workers: false });
    // A long token: FCM's are about 160 characters, a web push endpoint can pass an address's 320.
    const token = `fcm:${'A1b2-C3d4_'.repeat(40)}`;
    expect(
      (await report({ type: 'bounce', bounceType: 'hard', channel: 'push', address: token })).json(),
    ).toEqual({ suppressed: true, reason: 'hard-bounce' });
    expect(await h.engine.suppressions.check({ kind: 'push', value: token })).toEqual([
      { reason: 'hard-bounce', at: h.clock.now(), source: 'delivery-events' },
    ]);
    const lookUp = await h.app.inject({
      url: `/v1/suppressions?channel=push&address=${encodeURIComponent(token)}`,
      headers: h.auth,
    });
    expect(lookUp.json()).toMatchObject({ suppressions: [{ reason: 'hard-bounce' }] });
    const complaint = await report({ type: 'complaint', channel: 'push', address: token });
    expect(complaint.statusCode).toBe(400);
    expect(complaint.json().error.issues[0].field).toBe('body.channel');
    // Only tokens run that long: a 400-character "phone number" is no address.
    const long = await report({ type: 'bounce', bounceType: 'hard', channel: 'sms', address: token });
    expect(long.statusCode).toBe(400);
    expect(long.json().error.issues[0]).toMatchObject({ field: 'body.address' });
  });

  it('refuses a suppression lookup or lift whose `+` was sent unencoded, rather than answer for another address', async () => {
    h = await httpHarness({ journeys: [notify], workers: false });
    await report({ type: 'complaint', channel: 'email', address: 'jane+news@example.com' });
    await report({ type: 'bounce', bounceType: 'hard', channel: 'sms', address: '+15550100' });
    // In a query string a `+` stands for a space: these name "jane news@…" and " 15550100".
    for (const [method, query] of [
      ['GET', 'channel=email&address=jane+news@example.com'],
      ['DELETE', 'channel=email&address=jane+news@example.com'],
      ['GET', 'channel=sms&address=+15550100'],
      ['DELETE', 'channel=sms&address=+1%20555%200100&reason=hard-bounce'],
    ] as const) {
      const res = await h.app.inject({ method, url: `/v1/suppressions?${query}`, headers: h.auth });
      expect(res.statusCode, `${method} ${query}`).toBe(400);
      expect(res.json().error.issues).toEqual([
        { field: 'querystring.address', message: expect.stringContaining('%2B') },
      ]);
    }
    // Both are still suppressed, and found once the `+` is encoded.
    for (const query of [
      'channel=email&address=jane%2Bnews@example.com',
      'channel=sms&address=%2B15550100',
    ]) {
      const res = await h.app.inject({ url: `/v1/suppressions?${query}`, headers: h.auth });
      expect(res.json().suppressions, query).toHaveLength(1);
    }
    // A phone number written with spaces between its digits is still looked up as it is.
    const spaced = await h.app.inject({
      url: '/v1/suppressions?channel=sms&address=%2B1%20555%200100',
      headers: h.auth,
    });
    expect(spaced.json().suppressions).toHaveLength(1);
  });

  it('shows each rerouted and skipped send on the customer with its rule, and counts it in /metrics', async () => {
    h = await httpHarness({ journeys: [notify] });
    await report({ type: 'bounce', bounceType: 'hard', channel: 'email', address: 'u4@example.com' });
    await h.engine.identify({ userId: 'u4', traits: { email: 'u4@example.com', phone: '+15550104' } });
    await h.engine.track({ userId: 'u4', event: 'Notify' });
    const messages = await eventually(async () => {
      const c = await h.app.inject({ url: '/v1/customers/u4', headers: h.auth });
      const list = c.statusCode === 200 ? c.json().messages : [];
      return list.length === 2 ? list : undefined;
    });
    expect(messages).toEqual([
      expect.objectContaining({
        channel: 'sms',
        status: 'skipped',
        rule: 'consent',
        reason:
          'no sms marketing consent on record: SMS marketing needs an explicit grant; no further channel in [email, sms]',
      }),
      expect.objectContaining({
        channel: 'email',
        status: 'rerouted',
        to: 'sms',
        rule: 'suppression',
        reason: expect.stringMatching(/^the email address is suppressed \(hard-bounce at /),
      }),
    ]);
    // A decision is counted just after the send's outcome is written, which the list above shows.
    const metrics = await eventually(async () => {
      const body = (await h.app.inject('/metrics')).body;
      return body.includes('chorus_policy_decisions_total{channel="sms",action="skip"') ? body : undefined;
    });
    expect(metrics).toContain(
      'chorus_policy_decisions_total{channel="email",action="reroute",rule="suppression"} 1',
    );
    expect(metrics).toContain('chorus_policy_decisions_total{channel="sms",action="skip",rule="consent"} 1');
    expect(metrics).toContain('chorus_sends_total{channel="sms",status="skipped"} 1');
  });
});
