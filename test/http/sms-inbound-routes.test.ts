import { createHmac } from 'node:crypto';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { pingJourney } from '../support/channel-journeys.js';
import { httpHarness, type HttpHarness } from '../support/http.js';
import { eventually } from '../support/redis.js';

const AUTH_TOKEN = 'twilio-auth-token-0123456789abcdef';
/** As PUBLIC_URL behind a proxy that serves the app under /chorus and takes the prefix off. */
const PUBLIC_URL = 'https://sms.chorus.test/chorus/';
const WEBHOOK_URL = 'https://sms.chorus.test/chorus/v1/sms/inbound/twilio';
const PATH = '/v1/sms/inbound/twilio';
const PHONE = '+14155550123';
/** SMS_FROM: the number our texts go out from, and so the one replies come to. */
const SMS_FROM = '+15005550006';

/** Twilio's signature as its docs describe it, written out here rather than taken from the engine. */
function sign(url: string, params: Record<string, string>, token = AUTH_TOKEN): string {
  const data = Object.keys(params)
    .sort()
    .reduce((text, name) => text + name + params[name], url);
  return createHmac('sha1', token).update(data, 'utf8').digest('base64');
}

/** A logger whose lines are kept, parsed, in `lines`. */
const capturingLogger = (lines: Array<Record<string, unknown>>) =>
  pino(
    { level: 'info' },
    { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) },
  );

/** The form Twilio posts when a customer texts the number. */
const inbound = (sid: string, body: string, from = PHONE) => ({
  MessageSid: sid,
  SmsSid: sid,
  AccountSid: 'AC0123456789abcdef0123456789abcdef',
  From: from,
  To: SMS_FROM,
  Body: body,
  NumMedia: '0',
});

describe('texts customers send to the Twilio number', () => {
  let h: HttpHarness;
  beforeEach(async () => {
    h = await httpHarness({
      journeys: [pingJourney('sms')],
      twilioAuthToken: AUTH_TOKEN,
      twilioSenders: { from: '+1 (500) 555-0006' },
      publicUrl: PUBLIC_URL,
    });
  });
  afterEach(() => h.close());

  const post = (params: Record<string, string>, signature = sign(WEBHOOK_URL, params)) =>
    h.app.inject({
      method: 'POST',
      url: PATH,
      payload: new URLSearchParams(params).toString(),
      headers: {
        'content-type': 'application/x-www-form-urlencoded; charset=UTF-8',
        'x-twilio-signature': signature,
      },
    });
  const suppressed = () => h.engine.suppressions.check({ kind: 'phone', value: PHONE });

  it('suppresses the number of a customer who replies STOP, without an API key, and answers empty TwiML', async () => {
    const res = await post(inbound('SM1', 'STOP'));
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/xml/);
    expect(res.body).toBe('<?xml version="1.0" encoding="UTF-8"?><Response/>');
    expect(await suppressed()).toEqual([
      { reason: 'unsubscribe', at: h.clock.now(), source: 'twilio inbound STOP' },
    ]);
  });

  it("then sends the customer's marketing texts no more, and again once they reply START", async () => {
    await h.engine.identify({
      userId: 'sam',
      traits: {
        phone: '+1 (415) 555-0123',
        consent: { sms: { marketing: { granted: true, source: 'checkout' } } },
      },
    });
    const lastText = (count: number) =>
      eventually(async () => {
        const { messages } = await h.engine.customer('sam');
        return messages.length === count ? messages[0] : undefined;
      });
    expect((await post(inbound('SM2', ' stop '))).statusCode).toBe(200);
    await h.engine.track({ userId: 'sam', event: 'Ping sms' });
    expect(await lastText(1)).toMatchObject({
      channel: 'sms',
      status: 'skipped',
      reason: expect.stringContaining('the phone number is suppressed (unsubscribe at'),
    });
    expect((await post(inbound('SM3', 'Start'))).statusCode).toBe(200);
    expect(await suppressed()).toEqual([]);
    await h.engine.track({ userId: 'sam', event: 'Ping sms' });
    expect(await lastText(2)).toMatchObject({ channel: 'sms', status: 'sent' });
  });

  it('takes each of Twilio’s opt-out and opt-in keywords, in any case, as the whole text only', async () => {
    for (const [i, word] of [
      'stopall',
      'Unsubscribe',
      'CANCEL',
      'end',
      'quit',
      'revoke',
      'OptOut',
    ].entries()) {
      await post(inbound(`SMout${i}`, word));
      expect(await suppressed()).toEqual([
        expect.objectContaining({ source: `twilio inbound ${word.toUpperCase()}` }),
      ]);
      await post(inbound(`SMin${i}`, ['start', 'YES', 'unstop'][i % 3]!));
      expect(await suppressed()).toEqual([]);
    }
    for (const [i, text] of ['please stop', 'HELP', 'info', 'STOP!', ''].entries()) {
      const res = await post(inbound(`SMother${i}`, text));
      expect(res.statusCode).toBe(200);
      expect(res.body).toContain('<Response/>');
    }
    expect(await suppressed()).toEqual([]);
  });

  it("takes a Messaging Service's own keywords by the OptOutType Advanced Opt-Out sends with them", async () => {
    await post({ ...inbound('SM10', 'Arrêt'), OptOutType: 'STOP' });
    expect(await suppressed()).toEqual([expect.objectContaining({ source: 'twilio inbound ARRÊT' })]);
    await post({ ...inbound('SM11', 'Commencer'), OptOutType: 'START' });
    expect(await suppressed()).toEqual([]);
  });

  it('leaves phone numbers alone for a STOP from a WhatsApp sender, which is no SMS opt-out', async () => {
    const res = await post(inbound('SM13', 'STOP', `whatsapp:${PHONE}`));
    expect(res.statusCode).toBe(200);
    expect(await suppressed()).toEqual([]);
  });

  it('changes nothing for a STOP or START sent to another number of the account whose webhook points here', async () => {
    const logs: Array<Record<string, unknown>> = [];
    const other = await httpHarness({
      journeys: [],
      workers: false,
      twilioAuthToken: AUTH_TOKEN,
      twilioSenders: { from: SMS_FROM },
      publicUrl: PUBLIC_URL,
      logger: capturingLogger(logs),
    });
    try {
      const send = (params: Record<string, string>) =>
        other.app.inject({
          method: 'POST',
          url: PATH,
          payload: new URLSearchParams(params).toString(),
          headers: {
            'content-type': 'application/x-www-form-urlencoded',
            'x-twilio-signature': sign(WEBHOOK_URL, params),
          },
        });
      const stop = { ...inbound('SM20', 'STOP'), To: '+15005550999' };
      const res = await send(stop);
      expect(res.statusCode).toBe(200);
      expect(res.body).toBe('<?xml version="1.0" encoding="UTF-8"?><Response/>');
      const check = () => other.engine.suppressions.check({ kind: 'phone', value: PHONE });
      expect(await check()).toEqual([]);
      expect(logs).toContainEqual(
        expect.objectContaining({
          messageSid: 'SM20',
          to: '+15005550999',
          msg: expect.stringContaining('not addressed to SMS_FROM'),
        }),
      );
      // A START sent elsewhere does not lift the STOP sent to us either.
      await send(inbound('SM21', 'STOP'));
      expect(await check()).toHaveLength(1);
      await send({ ...inbound('SM22', 'START'), To: '+15005550999' });
      expect(await check()).toHaveLength(1);
    } finally {
      await other.close();
    }
  });

  it.each([
    ['configured as such', { messagingServiceSid: 'MG0123456789abcdef0123456789abcdef' }],
    // Twilio takes a Messaging Service's sid as From, so SMS_FROM may name one.
    ['given as SMS_FROM', { from: 'MG0123456789abcdef0123456789abcdef' }],
  ])("takes a text to a Messaging Service's number by the service's sid, %s", async (_how, senders) => {
    const service = await httpHarness({
      journeys: [],
      workers: false,
      twilioAuthToken: AUTH_TOKEN,
      twilioSenders: senders,
      publicUrl: PUBLIC_URL,
    });
    try {
      const send = (params: Record<string, string>) =>
        service.app.inject({
          method: 'POST',
          url: PATH,
          payload: new URLSearchParams(params).toString(),
          headers: {
            'content-type': 'application/x-www-form-urlencoded',
            'x-twilio-signature': sign(WEBHOOK_URL, params),
          },
        });
      const check = () => service.engine.suppressions.check({ kind: 'phone', value: PHONE });
      await send({ ...inbound('SM30', 'STOP'), MessagingServiceSid: 'MG99999999999999999999999999999999' });
      expect(await check()).toEqual([]);
      await send({
        ...inbound('SM31', 'STOP'),
        To: '+15005550777',
        MessagingServiceSid: 'MG0123456789abcdef0123456789abcdef',
      });
      expect(await check()).toHaveLength(1);
    } finally {
      await service.close();
    }
  });

  it('lifts only the unsubscribe on START: a number reported as not existing stays suppressed', async () => {
    const at = h.clock.now();
    await h.engine.suppressions.add(
      { kind: 'phone', value: PHONE },
      { reason: 'hard-bounce', at, source: 'twilio' },
    );
    await post(inbound('SM4', 'STOP'));
    await post(inbound('SM5', 'START'));
    expect(await suppressed()).toEqual([{ reason: 'hard-bounce', at, source: 'twilio' }]);
  });

  it('changes nothing when Twilio delivers a STOP again after the customer replied START', async () => {
    const stop = inbound('SM6', 'STOP');
    await post(stop);
    await post(inbound('SM7', 'START'));
    const again = await post(stop);
    expect(again.statusCode).toBe(200);
    expect(await suppressed()).toEqual([]);
  });

  it('refuses with 403 a text whose signature is missing, wrong, or made for another URL, and records nothing', async () => {
    const stop = inbound('SM8', 'STOP');
    const answers = [
      await post(stop, ''),
      await post(stop, sign(WEBHOOK_URL, stop, 'another-token')),
      // Signed for the address the proxy forwards to, not the public one Twilio calls.
      await post(stop, sign(`http://localhost${PATH}`, stop)),
      // Signed for other fields than those sent.
      await post({ ...stop, From: '+14155550999' }, sign(WEBHOOK_URL, stop)),
    ];
    for (const res of answers) {
      expect(res.statusCode).toBe(403);
      expect(res.json().error).toMatchObject({
        code: 'CHORUS_TWILIO_SIGNATURE_INVALID',
        message: expect.stringContaining(
          `for ${WEBHOOK_URL}. To fix: set the webhook in Twilio to exactly that URL`,
        ),
      });
    }
    expect(answers[0]!.json().error.message).toMatch(/header is missing/);
    expect(await suppressed()).toEqual([]);
    expect(await h.engine.suppressions.check({ kind: 'phone', value: '+14155550999' })).toEqual([]);
  });

  it('takes the URL signed with the default port written out, as Twilio signs the URL it was given', async () => {
    const stop = inbound('SM9', 'STOP');
    const res = await post(stop, sign('https://sms.chorus.test:443/chorus/v1/sms/inbound/twilio', stop));
    expect(res.statusCode).toBe(200);
    expect(await suppressed()).toHaveLength(1);
  });
});

describe('texts posted to a Chorus without Twilio', () => {
  it('are refused with 404 saying what to configure', async () => {
    const h = await httpHarness({ journeys: [], workers: false });
    try {
      const params = inbound('SM1', 'STOP');
      const res = await h.app.inject({
        method: 'POST',
        url: PATH,
        payload: new URLSearchParams(params).toString(),
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          'x-twilio-signature': sign(`http://localhost${PATH}`, params),
        },
      });
      expect(res.statusCode).toBe(404);
      expect(res.json().error).toMatchObject({
        code: 'CHORUS_NOT_FOUND',
        message: expect.stringContaining('To fix: set TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN and SMS_FROM'),
      });
    } finally {
      await h.close();
    }
  });
});

describe('texts over a real connection, without PUBLIC_URL', () => {
  it('are verified over the URL they came to', async () => {
    const h = await httpHarness({
      journeys: [],
      workers: false,
      twilioAuthToken: AUTH_TOKEN,
      twilioSenders: { from: SMS_FROM },
    });
    try {
      const base = await h.app.listen({ port: 0, host: '127.0.0.1' });
      const params = inbound('SM1', 'STOP');
      const send = (signature: string) =>
        fetch(`${base}${PATH}?tenant=a%20b`, {
          method: 'POST',
          body: new URLSearchParams(params),
          headers: { 'x-twilio-signature': signature },
        });
      const refused = await send(sign(`${base}${PATH}`, params));
      expect(refused.status).toBe(403);
      const res = await send(sign(`${base}${PATH}?tenant=a%20b`, params));
      expect(res.status).toBe(200);
      expect(await res.text()).toContain('<Response/>');
      expect(await h.engine.suppressions.check({ kind: 'phone', value: PHONE })).toHaveLength(1);
    } finally {
      await h.close();
    }
  });
});
