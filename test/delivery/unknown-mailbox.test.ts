import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConsentStore, createEmailAdapter, type Engine } from '../../engine/index.js';
import { MESSAGE_FOR, oneSendJourney } from '../support/channel-journeys.js';
import { deliveryEngine, TEST_MAIL_FROM, testDelivery } from '../support/delivery.js';
import { eventually, testRedis } from '../support/redis.js';

const emailElseSms = oneSendJourney({
  id: 'email-else-sms',
  event: 'Hello',
  message: MESSAGE_FOR.email,
  channels: ['email', 'sms'],
});

/**
 * A receiving server as Postfix and Exchange answer at RCPT TO: a mailbox that does not exist
 * (5.1.1), a domain that takes no mail (5.1.10, a null MX), a mailbox over its quota (552
 * 5.2.2, Gmail's and Exchange's answer until it is emptied: the first time only here), a
 * refusal by policy (5.7.1), and Exchange Online's and Yahoo's words for a mailbox that does not
 * exist, which carry no 5.1.1.
 */
async function receivingServer() {
  const received: string[] = [];
  /** Every RCPT TO the server was given, refused or not. */
  const recipients: string[] = [];
  let fullOnce = true;
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onRcptTo(address, _session, callback) {
      recipients.push(address.address);
      const refuse = (responseCode: number, message: string) =>
        callback(Object.assign(new Error(message), { responseCode }));
      if (address.address.startsWith('gone@'))
        return refuse(550, '5.1.1 <gone@example.com>: Recipient address rejected: User unknown');
      if (address.address.startsWith('nomail@')) return refuse(556, '5.1.10 Recipient address has null MX');
      if (address.address.startsWith('full@') && fullOnce) {
        fullOnce = false;
        return refuse(552, '5.2.2 The email account that you tried to reach is over quota');
      }
      if (address.address.startsWith('spam@')) return refuse(550, '5.7.1 Message rejected by policy');
      if (address.address.startsWith('not-in-tenant@'))
        return refuse(
          550,
          '5.4.1 Recipient address rejected: Access denied. For more information see https://aka.ms/EXOSmtpErrors',
        );
      if (address.address.startsWith('no-yahoo@'))
        return refuse(
          554,
          "delivery error: dd This user doesn't have a yahoo.com account (no-yahoo@yahoo.com) [0]",
        );
      callback();
    },
    onData(stream, session, callback) {
      stream.resume();
      stream.on('end', () => {
        const to = session.envelope.rcptTo[0]!.address;
        // A server that checks the recipient only once it has the message.
        if (to.startsWith('late-gone@'))
          return callback(
            Object.assign(new Error('5.1.1 <late-gone@example.com>: User unknown'), { responseCode: 550 }),
          );
        received.push(to);
        callback();
      });
    },
  });
  server.on('error', () => {});
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `smtp://127.0.0.1:${(server.server.address() as AddressInfo).port}`,
    received,
    recipients,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

describe('an email address the receiving server says does not exist', () => {
  let ctx: ReturnType<typeof testRedis>;
  let outbox: ReturnType<typeof testDelivery>;
  let smtp: Awaited<ReturnType<typeof receivingServer>>;
  let engine: Engine;

  beforeAll(async () => {
    ctx = testRedis();
    smtp = await receivingServer();
    outbox = testDelivery(ctx.redis, ctx.prefix, [emailElseSms]);
    engine = deliveryEngine(ctx, [emailElseSms], {
      adapters: {
        ...outbox.delivery.adapters,
        email: createEmailAdapter({ from: TEST_MAIL_FROM, smtpUrl: smtp.url }),
      },
    });
    engine.startWorkers();
  });

  afterAll(async () => {
    await engine.close();
    await smtp.close();
    outbox.cleanup();
    await ctx.cleanup();
  });

  async function sendTo(userId: string, email: string) {
    // SMS marketing needs an explicit grant: the fallback would otherwise be skipped.
    await new ConsentStore(ctx.redis, ctx.prefix).set(userId, {
      channel: 'sms',
      topic: 'marketing',
      state: 'granted',
      at: Date.now(),
      source: 'test',
    });
    await engine.identify({ userId, traits: { email, phone: '+15005550006', firstName: 'Ada' } });
    await engine.track({ userId, event: 'Hello' });
    return eventually(
      async () => {
        const { messages } = await engine.customer(userId);
        return messages.some((m) => ['sent', 'failed', 'unknown'].includes(m.status as string))
          ? messages.map((m) => ({ channel: m.channel, status: m.status, reason: m.reason }))
          : undefined;
      },
      20_000,
      `the send to ${userId}`,
    );
  }

  it('hands the send to the next channel when the mailbox does not exist (5.1.1)', async () => {
    const messages = await sendTo('gone', 'gone@example.com');
    expect(messages).toEqual([
      { channel: 'sms', status: 'sent', reason: undefined },
      { channel: 'email', status: 'rerouted', reason: expect.stringMatching(/550 5\.1\.1 .*User unknown/) },
    ]);
    expect(readdirSync(join(outbox.outboxDir, 'sms'))).toHaveLength(1);
  });

  it('suppresses the address as a hard bounce, so later sends do not knock at it again', async () => {
    await sendTo('gone-again', 'Gone@Example.com');
    expect(await engine.suppressions.check({ kind: 'email', value: 'gone@example.com' })).toEqual([
      {
        reason: 'hard-bounce',
        at: expect.any(Number),
        source: expect.stringMatching(/^smtp: SMTP server refused the address, .*550 5\.1\.1/),
      },
    ]);
    // The next send, to another customer at the same address, is stopped before the server.
    const knocks = () => smtp.recipients.filter((to) => to.toLowerCase() === 'gone@example.com').length;
    const before = knocks();
    const messages = await sendTo('gone-twin', 'gone@example.com');
    expect(messages).toEqual([
      { channel: 'sms', status: 'sent', reason: undefined },
      {
        channel: 'email',
        status: 'rerouted',
        reason: expect.stringMatching(/^the email address is suppressed \(hard-bounce at /),
      },
    ]);
    expect(knocks()).toBe(before);
  });

  it('hands it on as well when the server says so only at the end of DATA', async () => {
    const messages = await sendTo('late-gone', 'late-gone@example.com');
    expect(messages.map((m) => [m.channel, m.status])).toEqual([
      ['sms', 'sent'],
      ['email', 'rerouted'],
    ]);
  });

  it('hands it on as well when the domain takes no mail (5.1.10)', async () => {
    const messages = await sendTo('nomail', 'nomail@example.com');
    expect(messages.map((m) => [m.channel, m.status])).toEqual([
      ['sms', 'sent'],
      ['email', 'rerouted'],
    ]);
  });

  it('suppresses and hands on as well when the server says so in words, without 5.1.1 (Exchange Online, Yahoo)', async () => {
    for (const [userId, email] of [
      ['not-in-tenant', 'not-in-tenant@example.com'],
      ['no-yahoo', 'no-yahoo@yahoo.com'],
    ] as const) {
      const messages = await sendTo(userId, email);
      expect(messages.map((m) => [m.channel, m.status])).toEqual([
        ['sms', 'sent'],
        ['email', 'rerouted'],
      ]);
      expect(await engine.suppressions.check({ kind: 'email', value: email })).toEqual([
        { reason: 'hard-bounce', at: expect.any(Number), source: expect.stringMatching(/^smtp: .*55[04] /) },
      ]);
    }
  });

  it('retries a mailbox over its quota (552 to RCPT TO is temporary, RFC 5321 4.5.3.1.10) and delivers it', async () => {
    const messages = await sendTo('full', 'full@example.com');
    expect(messages).toEqual([{ channel: 'email', status: 'sent', reason: undefined }]);
    expect(smtp.received).toContain('full@example.com');
  });

  it('fails, without handing on, a refusal that is not about the address (5.7.1)', async () => {
    const messages = await sendTo('spam', 'spam@example.com');
    expect(messages).toEqual([
      { channel: 'email', status: 'failed', reason: expect.stringMatching(/550 5\.7\.1/) },
    ]);
  });

  it('does not suppress an address whose refusal is not about it (5.7.1), nor a full mailbox', async () => {
    expect(await engine.suppressions.check({ kind: 'email', value: 'spam@example.com' })).toEqual([]);
    expect(await engine.suppressions.check({ kind: 'email', value: 'full@example.com' })).toEqual([]);
  });
});
