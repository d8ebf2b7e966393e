import { generateKeyPairSync } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { simpleParser } from 'mailparser';
import { SMTPServer } from 'smtp-server';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { ChannelAdapter } from '../../engine/channels/channel-adapter.js';
import { createEmailAdapter, emailMessageId } from '../../engine/channels/email-adapter.js';
import { smtpOutcome } from '../../engine/channels/smtp-outcome.js';
import { ChannelConfigError } from '../../engine/channels/errors.js';
import { header, startSmtpSink, type SmtpSink } from '../support/smtp-sink.js';
import { closedPort, deliveryFor } from './support.js';

describe('the email adapter over SMTP', () => {
  let sink: SmtpSink;
  let adapter: ChannelAdapter;

  beforeAll(async () => {
    sink = await startSmtpSink();
  });

  afterAll(() => sink.close());

  afterEach(async () => {
    await adapter.close?.();
    sink.reset();
  });

  function smtpAdapter() {
    adapter = createEmailAdapter({ from: 'Acme <hello@acme.example>', smtpUrl: sink.url });
    return adapter;
  }

  it('delivers an email with the unsubscribe, Chorus and Message-ID headers and a text part', async () => {
    const delivery = deliveryFor('email');
    const result = await smtpAdapter().send(delivery);

    expect(result).toEqual({
      status: 'sent',
      providerId: expect.stringMatching(/^250 /),
      detail: '<s-ada-onboarding.1-3-0@acme.example>',
    });
    expect(sink.received).toHaveLength(1);
    const mail = sink.received[0]!;
    expect(mail.messageId).toBe('<s-ada-onboarding.1-3-0@acme.example>');
    expect(header(mail, 'list-unsubscribe')).toBe('<https://acme.example/u/ada?sig=abc>');
    expect(header(mail, 'list-unsubscribe-post')).toBe('List-Unsubscribe=One-Click');
    expect(header(mail, 'x-chorus-journey')).toBe('onboarding');
    expect(header(mail, 'x-chorus-message')).toBe('welcome');
    expect(header(mail, 'x-chorus-variant')).toBe('subject-test=b');
    expect(header(mail, 'x-chorus-op')).toBe(delivery.opId);
    expect(mail.subject).toBe('Your workspace is ready');
    expect(mail.text?.trim()).toBe('Hello Ada, get started: https://acme.example/start');
    expect(mail.html).toContain('<a href="https://acme.example/start">get started</a>');
    expect(mail.to).toMatchObject({ text: 'ada@example.com' });
  });

  it('marks every email auto-generated, so out-of-office and other auto-replies are not sent back to it', async () => {
    const email = smtpAdapter();
    await email.send(deliveryFor('email'));
    await email.send(deliveryFor('email', { opId: 's-ada-receipt.1-1-0', topic: 'transactional' }));

    // RFC 3834 5: a receipt has no List-* header left for a responder to recognise it by.
    expect(sink.received.map((mail) => header(mail, 'auto-submitted'))).toEqual([
      'auto-generated',
      'auto-generated',
    ]);
  });

  it('writes a sender whose name holds a colon or a comma as one mailbox, not as a group', async () => {
    for (const from of ['Yue Tea: Seasonal Notes <hello@acme.example>', 'Acme, Inc. <hello@acme.example>']) {
      adapter = createEmailAdapter({ from, smtpUrl: sink.url });
      expect((await adapter.send(deliveryFor('email'))).status).toBe('sent');
      await adapter.close?.();
    }

    // A group in From (`Yue Tea:Seasonal Notes <hello@…>;`) is no mailbox: Gmail refuses the message.
    expect(sink.received.map((mail) => mail.from?.value)).toEqual([
      [{ name: 'Yue Tea: Seasonal Notes', address: 'hello@acme.example' }],
      [{ name: 'Acme, Inc.', address: 'hello@acme.example' }],
    ]);
    expect(sink.received.map((mail) => header(mail, 'from'))).toEqual([
      '"Yue Tea: Seasonal Notes" <hello@acme.example>',
      '"Acme, Inc." <hello@acme.example>',
    ]);
  });

  it('answers retry on a 451 and sent on the next attempt, with the same Message-ID both times', async () => {
    sink.answers = [451];
    const email = smtpAdapter();
    const delivery = deliveryFor('email');

    const first = await email.send(delivery);
    const second = await email.send(delivery);

    expect(first).toMatchObject({ status: 'retry', reason: expect.stringContaining('451 Greylisted') });
    expect(second.status).toBe('sent');
    expect(sink.received).toHaveLength(1);
    expect(sink.attempts.map((mail) => mail.messageId)).toEqual([
      emailMessageId(delivery.opId, 'acme.example'),
      emailMessageId(delivery.opId, 'acme.example'),
    ]);
  });

  it('answers failed with the server text on a 550, and delivers nothing', async () => {
    sink.answers = [550];
    const result = await smtpAdapter().send(deliveryFor('email'));

    expect(result).toEqual({ status: 'failed', reason: expect.stringContaining('550 Mailbox unavailable') });
    expect(sink.received).toHaveLength(0);
  });

  it('retries, not fails, when the server refuses the login: every message would meet it', async () => {
    const refusing = new SMTPServer({
      authOptional: false,
      disabledCommands: ['STARTTLS'],
      logger: false,
      onAuth: (_auth, _session, callback) => callback(new Error('Invalid username or password')),
    });
    await new Promise<void>((resolve) => refusing.listen(0, '127.0.0.1', resolve));
    const { port } = refusing.server.address() as AddressInfo;
    try {
      adapter = createEmailAdapter({
        from: 'hello@acme.example',
        smtpUrl: `smtp://ada:wrong@127.0.0.1:${port}/?requireTLS=false`,
      });
      const result = await adapter.send(deliveryFor('email'));
      expect(result).toEqual({
        status: 'retry',
        reason: expect.stringMatching(
          /^SMTP server refused AUTH PLAIN, which is not about this message: 535 /,
        ),
      });
    } finally {
      await new Promise<void>((resolve) => refusing.close(resolve));
    }
  });

  it('fails a 5xx to the recipient or the content, retries one to the sender or the connection', () => {
    const refusal = (responseCode: number, command: string) =>
      Object.assign(new Error('refused'), { responseCode, command, response: `${responseCode} no` });
    expect(smtpOutcome(refusal(550, 'RCPT TO')).status).toBe('failed');
    expect(smtpOutcome(refusal(554, 'DATA')).status).toBe('failed');
    expect(smtpOutcome(refusal(552, 'MAIL FROM')).status).toBe('failed');
    expect(smtpOutcome(refusal(553, 'MAIL FROM')).status).toBe('retry');
    expect(smtpOutcome(refusal(554, 'CONN')).status).toBe('retry');
    expect(smtpOutcome(refusal(530, 'EHLO')).status).toBe('retry');
    expect(smtpOutcome(refusal(451, 'DATA')).status).toBe('retry');
    expect(smtpOutcome(refusal(552, 'RCPT TO')).status).toBe('retry');
  });

  it('says an address is unusable when a multi-line refusal of the recipient names 5.1.1', () => {
    const gmail = Object.assign(new Error('Recipient command failed'), {
      command: 'RCPT TO',
      responseCode: 550,
      response:
        '550-5.1.1 The email account that you tried to reach does not exist. Please try\n' +
        "550-5.1.1 double-checking the recipient's email address for typos or\n" +
        '550 5.1.1 unnecessary spaces. https://support.google.com/mail/?p=NoSuchUser',
    });
    expect(smtpOutcome(gmail)).toMatchObject({ status: 'failed', addressUnusable: true });
    const policy = { ...gmail, response: '550 5.7.1 Service unavailable, client host blocked' };
    expect(smtpOutcome(Object.assign(new Error('x'), policy))).not.toHaveProperty('addressUnusable');
  });

  it('says the email may have arrived only when the server went silent after the whole message', async () => {
    // A hand-written SMTP server that drops the connection without an answer: at RCPT TO, before
    // the message, or once it has all of it.
    let dropAt: 'rcpt' | 'data' | 'accepted' = 'rcpt';
    const dropping = createServer((socket) => {
      let inData = false;
      let buffered = '';
      socket.write('220 drop.example ESMTP\r\n');
      socket.on('data', (chunk) => {
        buffered += chunk.toString('latin1');
        if (inData) {
          if (!buffered.includes('\r\n.\r\n')) return;
          // Accepted, then the connection breaks before the reply's line ends.
          if (dropAt === 'accepted') socket.write('250 2.0.0 Ok: queued as ABC');
          socket.destroy();
          return;
        }
        let end: number;
        while ((end = buffered.indexOf('\r\n')) >= 0) {
          const line = buffered.slice(0, end).toUpperCase();
          buffered = buffered.slice(end + 2);
          if (line.startsWith('EHLO')) socket.write('250 drop.example\r\n');
          else if (line.startsWith('RCPT') && dropAt === 'rcpt') return socket.destroy();
          else if (line.startsWith('DATA')) {
            inData = true;
            return socket.write('354 go ahead\r\n');
          } else socket.write('250 OK\r\n');
        }
      });
      socket.on('error', () => {});
    });
    await new Promise<void>((resolve) => dropping.listen(0, '127.0.0.1', resolve));
    const { port } = dropping.address() as AddressInfo;
    try {
      adapter = createEmailAdapter({ from: 'hello@acme.example', smtpUrl: `smtp://127.0.0.1:${port}` });
      expect(await adapter.send(deliveryFor('email'))).toEqual({
        status: 'retry',
        reason: expect.stringContaining('not reachable'),
      });
      dropAt = 'data';
      expect(await adapter.send(deliveryFor('email'))).toEqual({
        status: 'retry',
        reason: expect.stringContaining('the SMTP server had the whole message but did not answer'),
        mayHaveArrived: true,
      });
      dropAt = 'accepted';
      expect(await adapter.send(deliveryFor('email'))).toEqual({
        status: 'sent',
        providerId: expect.stringContaining('250 2.0.0 Ok: queued as ABC'),
      });
    } finally {
      await new Promise<void>((resolve) => dropping.close(() => resolve()));
    }
  });

  it('answers retry when no SMTP server listens', async () => {
    adapter = createEmailAdapter({
      from: 'hello@acme.example',
      smtpUrl: `smtp://127.0.0.1:${await closedPort()}`,
      timeoutMs: 2_000,
    });
    const result = await adapter.send(deliveryFor('email'));
    expect(result).toMatchObject({ status: 'retry', reason: expect.stringContaining('not reachable') });
  });

  it('fails a customer without an email address without connecting', async () => {
    const result = await smtpAdapter().send(deliveryFor('email', { address: { phone: '+15005550006' } }));
    expect(result).toEqual({ status: 'failed', reason: 'customer ada has no email address' });
    expect(sink.attempts).toHaveLength(0);
  });
});

describe('the email adapter without an SMTP URL', () => {
  let outboxDir: string;
  beforeEach(async () => {
    outboxDir = await mkdtemp(join(tmpdir(), 'chorus-email-'));
  });
  afterEach(async () => {
    await rm(outboxDir, { recursive: true, force: true });
  });

  it('writes a complete .eml file named by operation id, and logs its path', async () => {
    const logged: Array<{ obj: object; msg?: string }> = [];
    const email = createEmailAdapter({
      from: 'Acme <hello@acme.example>',
      outboxDir,
      logger: { info: (obj, msg) => logged.push({ obj, msg }) },
    });
    const delivery = deliveryFor('email');

    const result = await email.send(delivery);

    const path = join(outboxDir, 'email', `${delivery.opId}.eml`);
    expect(result).toEqual({ status: 'sent', providerId: path });
    expect(logged).toEqual([{ obj: expect.objectContaining({ path }), msg: 'email written to outbox' }]);
    const mail = await simpleParser(await readFile(path));
    expect(mail.messageId).toBe('<s-ada-onboarding.1-3-0@acme.example>');
    expect(header(mail, 'list-unsubscribe-post')).toBe('List-Unsubscribe=One-Click');
    expect(header(mail, 'x-chorus-variant')).toBe('subject-test=b');
    expect(mail.text?.trim()).toBe('Hello Ada, get started: https://acme.example/start');
    expect(mail.html).toContain('get started');
  });

  it('overwrites the same file when the same operation is sent again', async () => {
    const email = createEmailAdapter({ from: 'hello@acme.example', outboxDir });
    await email.send(deliveryFor('email'));
    await email.send(deliveryFor('email'));
    await email.send(deliveryFor('email', { opId: 's-ada-onboarding.1-4-0' }));

    expect((await readdir(join(outboxDir, 'email'))).sort()).toEqual([
      's-ada-onboarding.1-3-0.eml',
      's-ada-onboarding.1-4-0.eml',
    ]);
  });

  it('keeps an operation id with a slash inside the outbox folder', async () => {
    const email = createEmailAdapter({ from: 'hello@acme.example', outboxDir });
    const result = await email.send(deliveryFor('email', { opId: '../escape' }));
    expect(result).toEqual({ status: 'sent', providerId: join(outboxDir, 'email', '%2E%2E%2Fescape.eml') });
  });

  it('signs with DKIM over both list headers', async () => {
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const email = createEmailAdapter({
      from: 'hello@acme.example',
      outboxDir,
      dkim: {
        domainName: 'acme.example',
        keySelector: 'chorus',
        privateKey: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
      },
    });
    const result = await email.send(deliveryFor('email'));
    if (result.status !== 'sent') throw new Error(result.reason);

    const mail = await simpleParser(await readFile(result.providerId));
    const signature = header(mail, 'dkim-signature') ?? '';
    const signed = /\bh=([^;]+)/.exec(signature.replace(/\s+/g, ''))?.[1]?.toLowerCase().split(':');
    expect(signature).toContain('d=acme.example');
    expect(signed).toEqual(
      expect.arrayContaining(['list-unsubscribe', 'list-unsubscribe-post', 'from', 'subject']),
    );
  });

  it('promises one-click unsubscribe only for an https URL', async () => {
    const email = createEmailAdapter({ from: 'hello@acme.example', outboxDir });
    const result = await email.send(deliveryFor('email', { unsubscribeUrl: 'http://localhost:3000/u/ada' }));
    if (result.status !== 'sent') throw new Error(result.reason);

    const mail = await simpleParser(await readFile(result.providerId));
    expect(header(mail, 'list-unsubscribe')).toBe('<http://localhost:3000/u/ada>');
    expect(header(mail, 'list-unsubscribe-post')).toBeUndefined();
  });

  it('refuses a sender it cannot take a Message-ID domain from, and an unreadable DKIM key', () => {
    expect(() => createEmailAdapter({ from: 'nobody' })).toThrow(ChannelConfigError);
    expect(() =>
      createEmailAdapter({
        from: 'hello@acme.example',
        dkim: { domainName: 'acme.example', keySelector: 's', privateKey: 'not a key' },
      }),
    ).toThrow(/DKIM private key cannot be read/);
  });
});
