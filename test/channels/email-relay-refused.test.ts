import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { ChannelAdapter } from '../../engine/channels/channel-adapter.js';
import { createEmailAdapter } from '../../engine/channels/email-adapter.js';
import { smtpOutcome } from '../../engine/channels/smtp-outcome.js';
import { deliveryFor } from './support.js';

/**
 * Replies that submission servers give at RCPT TO to a client that is not logged in, or not
 * allowed to send through them: Postfix, Exchange Online, Gmail's relay and Exim in turn. Every
 * message meets them until the SMTP account is fixed.
 */
const RELAY_REFUSALS: Array<[number, string]> = [
  [554, '5.7.1 <ada@example.com>: Relay access denied'],
  [550, '5.7.64 TenantAttribution; Relay Access Denied'],
  [550, '5.7.0 Mail relay denied'],
  [550, 'relay not permitted, authentication required'],
  [530, '5.7.0 Authentication required'],
  // The sender, not the recipient: MAIL_FROM's domain has no DNS, or its address cannot be read.
  [553, '5.1.8 <hello@acme.example>: Sender address rejected: Domain not found'],
  [501, '5.1.7 Bad sender address syntax'],
];

describe('an SMTP server that refuses to relay for a client it does not know', () => {
  let server: SMTPServer;
  let port = 0;
  let refusal: [number, string] = RELAY_REFUSALS[0]!;
  let adapter: ChannelAdapter | undefined;

  beforeAll(async () => {
    server = new SMTPServer({
      authOptional: true,
      disabledCommands: ['STARTTLS'],
      logger: false,
      onAuth: (auth, _session, callback) => callback(null, { user: auth.username }),
      onRcptTo(_address, session, callback) {
        if (session.user) return callback();
        const [responseCode, message] = refusal;
        callback(Object.assign(new Error(message), { responseCode }));
      },
      onData(stream, _session, callback) {
        stream.resume();
        stream.on('end', () => callback());
      },
    });
    server.on('error', () => {});
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.server.address() as AddressInfo).port;
  });

  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  afterEach(async () => {
    await adapter?.close?.();
    adapter = undefined;
  });

  it('retries, not fails, each refusal: it is about the account, not the recipient', async () => {
    // No login in the URL, as when the SMTP credentials were left out.
    adapter = createEmailAdapter({ from: 'hello@acme.example', smtpUrl: `smtp://127.0.0.1:${port}` });
    for (const answer of RELAY_REFUSALS) {
      refusal = answer;
      expect(await adapter.send(deliveryFor('email'))).toEqual({
        status: 'retry',
        reason: expect.stringMatching(
          /^SMTP server refused RCPT TO, which is not about this message: .*check the SMTP account/,
        ),
      });
    }
  });

  it('sends once the account logs in', async () => {
    adapter = createEmailAdapter({
      from: 'hello@acme.example',
      smtpUrl: `smtp://ada:secret@127.0.0.1:${port}/?requireTLS=false`,
    });
    expect(await adapter.send(deliveryFor('email'))).toMatchObject({ status: 'sent' });
  });

  it('still reads a mailbox unknown to the relay as the address, and a policy refusal as the message', () => {
    const refused = (response: string) =>
      smtpOutcome(Object.assign(new Error('x'), { command: 'RCPT TO', responseCode: 550, response }));
    expect(refused('550 5.1.1 <gone@acme.example>: User unknown in relay recipient table')).toMatchObject({
      status: 'failed',
      addressUnusable: true,
    });
    expect(refused('550 5.7.1 Message rejected as spam')).toEqual({
      status: 'failed',
      reason: 'SMTP server refused: 550 5.7.1 Message rejected as spam',
    });
  });
});
