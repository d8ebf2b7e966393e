import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChannelAdapter } from '../../engine/channels/channel-adapter.js';
import { createEmailAdapter } from '../../engine/channels/email-adapter.js';
import { deliveryFor } from './support.js';

type Refusal = [code: number, text: string, at?: 'RCPT TO' | 'DATA'];

/**
 * How mailbox providers say a mailbox does not exist without the enhanced code 5.1.1, as they
 * answer today (the first line of each; some go on with a link on a second line).
 */
const MAILBOX_GONE: Record<string, Refusal> = {
  // Exchange Online's Directory-Based Edge Blocking: the tenant has no such recipient.
  'Exchange Online 5.4.1 Access denied': [
    550,
    '5.4.1 Recipient address rejected: Access denied. For more information see https://aka.ms/EXOSmtpErrors [BN8NAM11FT033.eop-nam11.prod.protection.outlook.com]',
  ],
  'Yahoo dd': [
    554,
    "delivery error: dd This user doesn't have a yahoo.com account (gone@yahoo.com) [0] - mta1011.mail.gq1.yahoo.com",
  ],
  'Yahoo dd mailbox disabled': [
    554,
    'delivery error: dd This mailbox is disabled (554.30) - mta4.mail.bf1.yahoo.com',
  ],
  'Yahoo dd mailbox not found': [
    554,
    'delivery error: dd Requested mail action aborted, mailbox not found - mta1019.mail.ne1.yahoo.com',
  ],
  'Gmail 5.2.1 disabled': [
    550,
    '5.2.1 The email account that you tried to reach is disabled. Learn more at\n https://support.google.com/mail/?p=DisabledUser',
  ],
  'No such user': [550, 'No such user'],
  'User unknown': [550, '<gone@example.com>: User unknown'],
  'User unknown at the end of DATA': [550, 'User unknown', 'DATA'],
};

/** Refusals that must not pass for a missing mailbox: policy, spam, a block, a relay refusal. */
const NOT_GONE: Record<string, Refusal> = {
  'policy 5.7.1': [550, '5.7.1 Message rejected by policy: User unknown sender reputation'],
  'spam wording, no code': [550, 'Message rejected as spam'],
  'blocked, no code': [554, 'User unknown or blocked: your IP is on a blocklist'],
  'Gmail 5.7.1 unsolicited': [
    550,
    '5.7.1 Our system has detected that this message is likely unsolicited mail. To reduce the amount of spam sent to Gmail, this message has been blocked.',
  ],
  // Gmail's 5.2.1 rate limit (written 550 by some relays) is not a disabled account.
  'Gmail 5.2.1 rate': [
    550,
    '5.2.1 The user you are trying to contact is receiving mail at a rate that prevents additional messages from being delivered.',
  ],
};

describe('a receiving server saying in words that the mailbox does not exist', () => {
  let server: SMTPServer;
  let adapter: ChannelAdapter;
  let refusal: Refusal = [550, 'No such user'];

  const refuse = (callback: (error?: Error) => void) => {
    const [responseCode, text] = refusal;
    callback(Object.assign(new Error(text), { responseCode }));
  };

  beforeAll(async () => {
    server = new SMTPServer({
      authOptional: true,
      disabledCommands: ['STARTTLS'],
      logger: false,
      onRcptTo(_address, _session, callback) {
        if ((refusal[2] ?? 'RCPT TO') === 'RCPT TO') return refuse(callback);
        callback();
      },
      onData(stream, _session, callback) {
        stream.resume();
        stream.on('end', () => refuse(callback));
      },
    });
    server.on('error', () => {});
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.server.address() as AddressInfo;
    adapter = createEmailAdapter({ from: 'hello@acme.example', smtpUrl: `smtp://127.0.0.1:${port}` });
  });

  afterAll(async () => {
    await adapter.close?.();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it.each(Object.entries(MAILBOX_GONE))('reads %s as a hard bounce, as 5.1.1 is', async (_name, answer) => {
    refusal = answer;
    expect(await adapter.send(deliveryFor('email'))).toEqual({
      status: 'failed',
      reason: expect.stringMatching(/^SMTP server refused the address, which cannot receive mail: 55\d/),
      addressUnusable: true,
      addressGone: true,
    });
  });

  it.each(Object.entries(NOT_GONE))('fails %s without suppressing the address', async (_name, answer) => {
    refusal = answer;
    const result = await adapter.send(deliveryFor('email'));
    expect(result).toEqual({
      status: 'failed',
      reason: expect.stringMatching(/^SMTP server refused: 55\d /),
    });
  });

  it('still retries Exchange Online’s relay refusal, also worded 5.4.1: it is about the account', async () => {
    refusal = [550, '5.4.1 Relay Access Denied [DM6NAM12FT001.eop-nam12.prod.protection.outlook.com]'];
    expect(await adapter.send(deliveryFor('email'))).toMatchObject({ status: 'retry' });
  });
});
