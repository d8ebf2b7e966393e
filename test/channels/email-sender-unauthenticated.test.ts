import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChannelAdapter } from '../../engine/channels/channel-adapter.js';
import { createEmailAdapter } from '../../engine/channels/email-adapter.js';
import { deliveryFor } from './support.js';

/**
 * Gmail's refusals, at the end of DATA, of mail whose sender does not authenticate: DMARC, and
 * SPF or DKIM, failing for the sender's domain. Every message from that domain meets them until its
 * DNS records are fixed.
 */
const UNAUTHENTICATED: Array<[number, string]> = [
  [
    550,
    "5.7.26 Unauthenticated email from acme.example is not accepted due to domain's DMARC policy. Please contact the administrator of acme.example domain if this was a legitimate mail.",
  ],
  [
    550,
    '5.7.26 This mail has been blocked because the sender is unauthenticated. Gmail requires all senders to authenticate with either SPF or DKIM.',
  ],
  [
    550,
    '5.7.27 This mail has been blocked because the sender is unauthenticated. Gmail requires all senders to authenticate with SPF.',
  ],
];

describe('a receiving server refusing the message because its sender is not authenticated', () => {
  let server: SMTPServer;
  let adapter: ChannelAdapter;
  let refusal: [number, string] = UNAUTHENTICATED[0]!;

  beforeAll(async () => {
    server = new SMTPServer({
      authOptional: true,
      disabledCommands: ['STARTTLS'],
      logger: false,
      onData(stream, _session, callback) {
        stream.resume();
        stream.on('end', () => {
          const [responseCode, message] = refusal;
          callback(Object.assign(new Error(message), { responseCode }));
        });
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

  it('retries, as other refusals of the sender’s setup are, naming the records to check', async () => {
    for (const answer of UNAUTHENTICATED) {
      refusal = answer;
      expect(await adapter.send(deliveryFor('email'))).toEqual({
        status: 'retry',
        reason: expect.stringMatching(
          /^SMTP server refused DATA for the sender's authentication, which every message from it meets: 550 5\.7\.2[67] .*\(check the SPF, DKIM and DMARC records of the sender's domain\)$/s,
        ),
      });
    }
  });

  it('still fails a refusal of the content itself (5.7.1)', async () => {
    refusal = [550, '5.7.1 Our system has detected that this message is likely unsolicited mail.'];
    expect(await adapter.send(deliveryFor('email'))).toEqual({
      status: 'failed',
      reason: expect.stringMatching(/^SMTP server refused: 550 5\.7\.1 /),
    });
  });
});
