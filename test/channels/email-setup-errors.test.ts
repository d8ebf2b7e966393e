import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEmailAdapter } from '../../engine/channels/email-adapter.js';
import { startSmtpSink, type SmtpSink } from '../support/smtp-sink.js';
import { deliveryFor } from './support.js';

describe('an email that cannot be sent for the SMTP setup, not the server being away', () => {
  let tls: SmtpSink;

  beforeAll(async () => {
    tls = await startSmtpSink({ tls: 'implicit' });
  });

  afterAll(async () => {
    await tls.close();
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
});
