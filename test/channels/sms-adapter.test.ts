import { createServer, type AddressInfo, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { FakeClock } from '../../engine/clock.js';
import { ChannelConfigError } from '../../engine/channels/errors.js';
import { createSmsAdapter } from '../../engine/channels/sms-adapter.js';
import { startSmtpSink } from '../support/smtp-sink.js';
import { closedPort, deliveryFor, startHttpServer, type Reply } from './support.js';

const accepted: Reply = { status: 201, body: JSON.stringify({ sid: 'SM123', status: 'queued' }) };

describe('the SMS adapter against a Twilio-compatible server', () => {
  let server: Awaited<ReturnType<typeof startHttpServer>> | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  async function adapterAnswering(...replies: Reply[]) {
    server = await startHttpServer(...replies);
    return createSmsAdapter({
      accountSid: 'AC42',
      authToken: 's3cret',
      from: '+15005550001',
      baseUrl: server.url,
      clock: new FakeClock(Date.parse('2026-03-01T12:00:00Z')),
      timeoutMs: 500,
    });
  }

  it('posts a form with To, From and Body under basic auth, and returns the message sid', async () => {
    const sms = await adapterAnswering(accepted);
    const result = await sms.send(deliveryFor('sms'));

    expect(result).toEqual({ status: 'sent', providerId: 'SM123', detail: 'queued' });
    const [request] = server!.requests;
    expect(request).toMatchObject({ method: 'POST', url: '/2010-04-01/Accounts/AC42/Messages.json' });
    expect(request!.headers.authorization).toBe(`Basic ${Buffer.from('AC42:s3cret').toString('base64')}`);
    expect(request!.headers['content-type']).toBe('application/x-www-form-urlencoded');
    expect(Object.fromEntries(new URLSearchParams(request!.body.toString()))).toEqual({
      To: '+15005550006',
      From: '+15005550001',
      Body: 'Acme: your workspace is ready https://acme.example/s',
    });
  });

  it('sends from a messaging service instead of a number when one is configured', async () => {
    server = await startHttpServer(accepted);
    const sms = createSmsAdapter({
      accountSid: 'AC42',
      authToken: 't',
      messagingServiceSid: 'MG9',
      baseUrl: server.url,
    });
    await sms.send(deliveryFor('sms'));

    const form = new URLSearchParams(server.requests[0]!.body.toString());
    expect(form.get('MessagingServiceSid')).toBe('MG9');
    expect(form.has('From')).toBe(false);
  });

  it('fails a customer without a phone number without calling the provider', async () => {
    const sms = await adapterAnswering(accepted);
    const result = await sms.send(deliveryFor('sms', { address: { email: 'ada@example.com' } }));

    expect(result).toEqual({ status: 'failed', reason: 'customer ada has no phone number' });
    expect(server!.requests).toHaveLength(0);
  });

  it('retries a 429 after the Retry-After seconds, and a 500 without a delay', async () => {
    const sms = await adapterAnswering(
      { status: 429, headers: { 'retry-after': '7' } },
      { status: 500 },
      accepted,
    );

    expect(await sms.send(deliveryFor('sms'))).toMatchObject({ status: 'retry', afterMs: 7000 });
    expect(await sms.send(deliveryFor('sms'))).toEqual({
      status: 'retry',
      reason: 'Twilio answered HTTP 500',
    });
    expect(await sms.send(deliveryFor('sms'))).toMatchObject({ status: 'sent', providerId: 'SM123' });
  });

  it("retries a 401: the account's credentials, not the message, are at fault", async () => {
    const sms = await adapterAnswering(
      { status: 401, body: JSON.stringify({ code: 20003, message: 'Authenticate', status: 401 }) },
      accepted,
    );

    expect(await sms.send(deliveryFor('sms'))).toEqual({
      status: 'retry',
      reason: "Twilio refused the account's credentials (HTTP 401): 20003 Authenticate",
    });
    expect(await sms.send(deliveryFor('sms'))).toMatchObject({ status: 'sent' });
  });

  it('honours a Retry-After given as an HTTP date, measured on the injected clock', async () => {
    const sms = await adapterAnswering({
      status: 503,
      headers: { 'retry-after': 'Sun, 01 Mar 2026 12:01:00 GMT' },
    });
    expect(await sms.send(deliveryFor('sms'))).toMatchObject({ status: 'retry', afterMs: 60_000 });
  });

  it("fails a 400 for good with Twilio's error code and message", async () => {
    const body = JSON.stringify({
      code: 21211,
      message: "The 'To' number +1500 is not a valid phone number.",
      status: 400,
    });
    const sms = await adapterAnswering({ status: 400, body });

    expect(await sms.send(deliveryFor('sms'))).toEqual({
      status: 'failed',
      reason: "Twilio answered HTTP 400: 21211 The 'To' number +1500 is not a valid phone number.",
      addressUnusable: true,
    });
  });

  it('sends to the number in E.164 form when the trait is written with spaces, brackets, dots or dashes', async () => {
    // Twilio takes only E.164 in To: "+1 (415) 555-0123", as a sign-up form stores it, was refused
    // as not a valid number, and the customer never got a text.
    const sms = await adapterAnswering(accepted);
    for (const phone of ['+1 (415) 555-0123', ' +1.415.555.0123 ', '+1-415-555-0123']) {
      expect(await sms.send(deliveryFor('sms', { address: { phone } }))).toMatchObject({ status: 'sent' });
    }
    expect(server!.requests.map((r) => new URLSearchParams(r.body.toString()).get('To'))).toEqual([
      '+14155550123',
      '+14155550123',
      '+14155550123',
    ]);
  });

  it('hands on, without a request, a phone number that is not in E.164 form, saying what was expected', async () => {
    const sms = await adapterAnswering(accepted);
    for (const phone of ['07700 900123', '4155550123', '+1 415 555 0123 ext. 4', '+0123456']) {
      expect(await sms.send(deliveryFor('sms', { address: { phone } }))).toEqual({
        status: 'failed',
        reason: `the phone number of customer ada, ${JSON.stringify(phone)}, is not in E.164 form: a "+", the country code and the number, such as +14155550123`,
        addressUnusable: true,
      });
    }
    expect(server!.requests).toHaveLength(0);
  });

  it('hands on a text to a customer who replied STOP (21610), saying so and marking it an opt-out, rather than failing it', async () => {
    const sms = await adapterAnswering({
      status: 400,
      body: JSON.stringify({
        code: 21610,
        message: 'Attempt to send to unsubscribed recipient',
        status: 400,
      }),
    });
    expect(await sms.send(deliveryFor('sms'))).toEqual({
      status: 'failed',
      reason:
        'Twilio answered HTTP 400: 21610 Attempt to send to unsubscribed recipient; the customer replied STOP ' +
        'to this sender, which takes no text to their number until they reply START',
      addressUnusable: true,
      optedOut: true,
    });
  });

  it.each([
    [
      21612,
      "The 'To' phone number is not currently reachable via SMS",
      "; when numbers of one country all meet it, check the sender's geographic permissions and sender id in Twilio",
    ],
    [21635, "'To' number cannot be a landline", ''],
  ])('hands on a text to a number Twilio says cannot take it (%i)', async (code, message, hint) => {
    const sms = await adapterAnswering({ status: 400, body: JSON.stringify({ code, message, status: 400 }) });
    expect(await sms.send(deliveryFor('sms'))).toEqual({
      status: 'failed',
      reason: `Twilio answered HTTP 400: ${code} ${message}${hint}`,
      addressUnusable: true,
    });
  });

  it("retries Twilio's 400 for a sender whose queue is full (21611): it takes messages again once it drains", async () => {
    const sms = await adapterAnswering({
      status: 400,
      body: JSON.stringify({
        code: 21611,
        message: "This 'From' number has exceeded the maximum number of queued messages",
        status: 400,
      }),
    });
    expect(await sms.send(deliveryFor('sms'))).toEqual({
      status: 'retry',
      reason: expect.stringMatching(
        /^Twilio answered HTTP 400: 21611 This 'From' number has exceeded .*queued messages; .*sender's queue/,
      ),
    });
  });

  it('retries when the provider does not answer in time, or cannot be reached', async () => {
    const sms = await adapterAnswering('hang');
    expect(await sms.send(deliveryFor('sms'))).toEqual({
      status: 'retry',
      reason: 'Twilio did not answer within 500 ms',
      mayHaveArrived: true,
    });

    const unreachable = createSmsAdapter({
      accountSid: 'AC42',
      authToken: 't',
      from: '+1',
      baseUrl: `http://127.0.0.1:${await closedPort()}`,
    });
    expect(await unreachable.send(deliveryFor('sms'))).toMatchObject({
      status: 'retry',
      reason: expect.stringContaining('ECONNREFUSED'),
    });
  });

  it('counts a message sent when Twilio answered 201 and its body then stalled or broke off', async () => {
    // The status line is Twilio's answer: the message was taken, and must not be recorded unknown.
    for (const unfinished of ['hang', 'reset'] as const) {
      const sms = await adapterAnswering({ status: 201, body: '{"sid":"SM12', unfinished });
      expect(await sms.send(deliveryFor('sms'))).toEqual({ status: 'sent', providerId: 'unknown' });
      await server?.close();
      server = undefined;
    }
  });

  it('decides by the status when an error answer breaks off mid-body', async () => {
    const sms = await adapterAnswering({
      status: 503,
      headers: { 'retry-after': '7' },
      body: '{"code":20',
      unfinished: 'reset',
    });
    expect(await sms.send(deliveryFor('sms'))).toEqual({
      status: 'retry',
      reason: 'Twilio answered HTTP 503: {"code":20',
      afterMs: 7000,
    });
  });

  it('retries, as not sent, a provider whose TLS certificate is refused: the request never left', async () => {
    // Any TLS server with a self-signed certificate will do: the handshake fails before a byte of
    // the request is sent, so the message cannot have arrived and is not recorded unknown.
    const tls = await startSmtpSink({ tls: 'implicit' });
    try {
      const sms = createSmsAdapter({
        accountSid: 'AC42',
        authToken: 't',
        from: '+1',
        baseUrl: `https://127.0.0.1:${tls.port}`,
        timeoutMs: 2000,
      });
      const result = await sms.send(deliveryFor('sms'));
      expect(result).toEqual({ status: 'retry', reason: expect.stringMatching(/certificate/) });
    } finally {
      await tls.close();
    }
  });

  it('retries, as not sent, a provider that never completes the TLS handshake within the timeout', async () => {
    // TCP connects, then nothing: the request waits for TLS and is never written, so the message
    // cannot have arrived. Taken for "may have arrived", the SMS (which Twilio cannot recognise
    // when sent again) was recorded unknown and never sent.
    const sockets: Socket[] = [];
    const silent = createServer((socket) => sockets.push(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    try {
      const sms = createSmsAdapter({
        accountSid: 'AC42',
        authToken: 't',
        from: '+1',
        baseUrl: `https://127.0.0.1:${(silent.address() as AddressInfo).port}`,
        timeoutMs: 300,
      });
      expect(await sms.send(deliveryFor('sms'))).toEqual({
        status: 'retry',
        reason: 'Twilio could not be reached: no connection within 300 ms',
      });
      expect(sockets).toHaveLength(1);
    } finally {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => silent.close(() => resolve()));
    }
  });

  it('refuses to be created without a sender', () => {
    expect(() => createSmsAdapter({ accountSid: 'AC42', authToken: 't' })).toThrow(ChannelConfigError);
  });
});
