import { createHmac } from 'node:crypto';
import { z } from 'zod';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { defineJourney } from '../../engine/index.js';
import { phoneIndexKey } from '../../engine/store/phone-index.js';
import { httpHarness, type HttpHarness } from '../support/http.js';
import { eventually } from '../support/redis.js';

const AUTH_TOKEN = 'twilio-auth-token-0123456789abcdef';
const PUBLIC_URL = 'https://sms.chorus.test/';
const WEBHOOK_URL = 'https://sms.chorus.test/v1/sms/inbound/twilio';
const SMS_FROM = '+15005550006';
const PHONE = '+14155550123';

/** Twilio's signature as its docs describe it, written out here rather than taken from the engine. */
function sign(params: Record<string, string>): string {
  const data = Object.keys(params)
    .sort()
    .reduce((text, name) => text + name + params[name], WEBHOOK_URL);
  return createHmac('sha1', AUTH_TOKEN).update(data, 'utf8').digest('base64');
}

/** A journey that waits a week after `Signed Up`, and lets go of a customer who unsubscribes by text. */
const waiting = defineJourney({
  id: 'waiting',
  version: 1,
  trigger: { event: 'Signed Up' },
  profile: z.object({}).loose(),
  exitOn: ['Unsubscribed'],
  machine: (j) =>
    j.createMachine({
      initial: 'waiting',
      states: {
        waiting: { tags: 'awareness', after: { '7d': 'done' } },
        done: { tags: 'awareness', type: 'final' },
      },
    }),
});

describe('a STOP or START texted to our number, for the customers with that number', () => {
  let h: HttpHarness;
  beforeEach(async () => {
    h = await httpHarness({
      journeys: [waiting],
      twilioAuthToken: AUTH_TOKEN,
      twilioSenders: { from: SMS_FROM },
      publicUrl: PUBLIC_URL,
    });
  });
  afterEach(() => h.close());

  const text = async (sid: string, body: string, from = PHONE) => {
    const params = { MessageSid: sid, AccountSid: 'AC01', From: from, To: SMS_FROM, Body: body };
    const res = await h.app.inject({
      method: 'POST',
      url: '/v1/sms/inbound/twilio',
      payload: new URLSearchParams(params).toString(),
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-twilio-signature': sign(params) },
    });
    expect(res.statusCode).toBe(200);
  };
  /** Identifies the customer and waits until the traits are applied. */
  const identify = async (userId: string, traits: Record<string, unknown>) => {
    await h.engine.identify({ userId, traits });
    const expected = traits['phone'] ?? undefined;
    await eventually(async () => (await h.engine.customer(userId)).profile['phone'] === expected);
  };
  const smsMarketing = (userId: string) => h.engine.consent.store.get(userId, 'sms', 'marketing');
  const events = async (userId: string, name: string) =>
    (await h.engine.customer(userId)).recentEvents.filter(
      (event) => event.kind === 'track' && event.name === name,
    );

  it('withdraws their SMS marketing consent, tracks Unsubscribed, and START grants it again dated by its arrival', async () => {
    await identify('sam', {
      phone: '+1 (415) 555-0123',
      consent: { sms: { marketing: { granted: true, source: 'checkout' } } },
    });
    await h.engine.track({ userId: 'sam', event: 'Signed Up' });
    await eventually(async () => (await h.engine.customer('sam')).instances.length === 1 || undefined);

    await text('SM1', 'STOP');
    expect(await smsMarketing('sam')).toEqual({
      channel: 'sms',
      topic: 'marketing',
      state: 'denied',
      at: h.clock.now(),
      source: 'twilio inbound STOP',
    });
    const [unsubscribed] = await eventually(async () => {
      const found = await events('sam', 'Unsubscribed');
      return found.length > 0 ? found : undefined;
    });
    expect(unsubscribed).toMatchObject({ properties: { channel: 'sms', topic: 'marketing' } });
    // The journey lets go of them on it, as on an email unsubscribe.
    const [instance] = await eventually(async () => {
      const { instances } = await h.engine.customer('sam');
      return instances[0]?.status === 'done' ? instances : undefined;
    });
    expect(instance).toMatchObject({ exitReason: 'exit:Unsubscribed' });

    h.clock.advance('2d');
    await text('SM2', 'start');
    expect(await smsMarketing('sam')).toEqual({
      channel: 'sms',
      topic: 'marketing',
      state: 'granted',
      at: h.clock.now(),
      source: 'twilio inbound START',
    });
    await eventually(async () => ((await events('sam', 'Subscribed')).length === 1 ? true : undefined));
    // Twilio's retry of the STOP changes nothing, and is no second event.
    await text('SM1', 'STOP');
    expect(await smsMarketing('sam')).toMatchObject({ state: 'granted' });
    await h.settleIngest();
    expect(await events('sam', 'Unsubscribed')).toHaveLength(1);
  });

  it("keeps the STOP's denial over a consent trait an identify sends again, until the customer texts START", async () => {
    const traits = { phone: PHONE, consent: { sms: { marketing: true } } };
    await identify('lee', traits);
    await text('SM5', 'STOP');
    // The app's library sends the traits it remembers again at the next login.
    h.clock.advance('1h');
    await h.engine.identify({ userId: 'lee', traits, messageId: 'login-2' });
    await h.settleIngest();
    await eventually(
      async () =>
        (await h.engine.customer('lee')).recentEvents.some((event) => event.id === 'login-2') || undefined,
    );
    expect(await smsMarketing('lee')).toMatchObject({ state: 'denied', source: 'twilio inbound STOP' });
    // Nor may a caller write a STOP's source, which is the evidence of the customer's own text.
    const forged = await h.app.inject({
      method: 'POST',
      url: '/v1/customers/lee/consent',
      headers: h.auth,
      payload: { channel: 'sms', topic: 'marketing', granted: true, source: 'Twilio inbound START' },
    });
    expect(forged.statusCode).toBe(400);
    expect(forged.json().error.message).toContain('is recorded only by Chorus itself');
    h.clock.advance('1h');
    await text('SM6', 'START');
    expect(await smsMarketing('lee')).toMatchObject({ state: 'granted', source: 'twilio inbound START' });
  });

  it('reaches every customer with the number, not one who changed or removed theirs, nor another number', async () => {
    await identify('a', { phone: PHONE });
    await identify('b', { phone: '+1 415-555-0123' });
    await identify('moved', { phone: PHONE });
    await identify('moved', { phone: '+14155550999' });
    await identify('removed', { phone: PHONE });
    await identify('removed', { phone: null });
    await identify('longer', { phone: `${PHONE}4` });
    await identify('no-phone', { email: 'np@example.com' });

    await text('SM3', 'STOP');
    for (const id of ['a', 'b']) expect(await smsMarketing(id)).toMatchObject({ state: 'denied' });
    for (const id of ['moved', 'removed', 'longer', 'no-phone'])
      expect(await smsMarketing(id)).toBeUndefined();
    // The index holds each customer's number now, and nothing else.
    expect((await h.redis.zrange(phoneIndexKey(h.prefix), 0, -1)).sort()).toEqual(
      [`${PHONE}4|longer`, `${PHONE}|a`, `${PHONE}|b`, '+14155550999|moved'].sort(),
    );
  });

  it('forgets an erased customer’s number, and a later STOP writes nothing under their id', async () => {
    await identify('gone', { phone: PHONE });
    await identify('kept', { phone: PHONE });
    await h.engine.erase('gone');
    expect(await h.redis.zrange(phoneIndexKey(h.prefix), 0, -1)).toEqual([`${PHONE}|kept`]);

    await text('SM4', 'STOP');
    await h.settleIngest();
    expect(await smsMarketing('kept')).toMatchObject({ state: 'denied' });
    expect(await smsMarketing('gone')).toBeUndefined();
    expect(await h.engine.customer('gone')).toMatchObject({ profile: {}, recentEvents: [] });
  });
});
