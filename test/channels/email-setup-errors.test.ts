import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEmailAdapter } from '../../engine/channels/email-adapter.js';
import { startSmtpSink, type SmtpSink } from '../support/smtp-sink.js';
import { deliveryFor } from './support.js';

describe('an email that cannot be sent for the SMTP setup, not the server being away', () => {
  let tls: SmtpSink;
  let withLogin: SMTPServer;
  let loginPort = 0;

  beforeAll(async () => {
    tls = await startSmtpSink({ tls: 'implicit' });
    withLogin = new SMTPServer({
      authOptional: false,
      disabledCommands: ['STARTTLS'],
      logger: false,
      onAuth: (auth, _session, callback) => callback(null, { user: auth.username }),
    });
    withLogin.on('error', () => {});
    await new Promise<void>((resolve) => withLogin.listen(0, '127.0.0.1', resolve));
    loginPort = (withLogin.server.address() as AddressInfo).port;
  });

  afterAll(async () => {
    await tls.close();
    await new Promise<void>((resolve) => withLogin.close(() => resolve()));
  });

  async function sendThrough(smtpUrl: string) {
    const adapter = createEmailAdapter({ from: 'hello@acme.example', smtpUrl, timeoutMs: 2_000 });
    try {
      return await adapter.send(deliveryFor('email'));
    } finally {
      await adapter.close?.();
    }
  }

  it('says the TLS handshake failed, naming the certificate, when the server’s is not trusted', async () => {
    const result = await sendThrough(`smtps://127.0.0.1:${tls.port}`);
    expect(result).toEqual({
      status: 'retry',
      reason: expect.stringMatching(/^TLS with the SMTP server failed .*certificate/),
    });
  });

  it('says the login could not be made when the URL has a user name and no password', async () => {
    const result = await sendThrough(`smtp://ada@127.0.0.1:${loginPort}/?requireTLS=false`);
    expect(result).toEqual({
      status: 'retry',
      reason: expect.stringMatching(/^the SMTP login could not be made .*Missing credentials/),
    });
  });
});
