import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { ChannelAdapter } from '../../engine/channels/channel-adapter.js';
import { createEmailAdapter } from '../../engine/channels/email-adapter.js';
import { ChannelConfigError } from '../../engine/channels/errors.js';
import { ConfigError, loadConfig } from '../../engine/index.js';
import { startSmtpSink, type SmtpSink } from '../support/smtp-sink.js';
import { deliveryFor } from './support.js';

/** An SMTP relay password as Amazon SES makes them: base64, so often with `/` and `+`. */
const SES_PASSWORD = 'BGx3/Kf9+z0Qm/Lw2bYv8hTnE4a1RcUdPoJs6WkXyZ';

/** What a caller sees when the adapter refuses its SMTP URL. */
function refusal(smtpUrl: string): ChannelConfigError {
  try {
    createEmailAdapter({ from: 'hello@acme.example', smtpUrl });
  } catch (error) {
    if (error instanceof ChannelConfigError) return error;
    throw error;
  }
  throw new Error(`${smtpUrl} was taken`);
}

describe('the SMTP URL of the email adapter', () => {
  let relay: SMTPServer;
  let port = 0;
  const logins: Array<{ user: string; pass: string }> = [];
  let adapter: ChannelAdapter | undefined;

  beforeAll(async () => {
    // A relay that takes only one account, as a provider's does.
    relay = new SMTPServer({
      authOptional: false,
      disabledCommands: ['STARTTLS'],
      logger: false,
      onAuth(auth, _session, callback) {
        logins.push({ user: auth.username ?? '', pass: auth.password ?? '' });
        if (auth.username === 'postmaster@mg.acme.example' && auth.password === SES_PASSWORD)
          return callback(null, { user: auth.username });
        callback(new Error('Invalid username or password'));
      },
      onData(stream, _session, callback) {
        stream.resume();
        stream.on('end', () => callback());
      },
    });
    relay.on('error', () => {});
    await new Promise<void>((resolve) => relay.listen(0, '127.0.0.1', resolve));
    port = (relay.server.address() as AddressInfo).port;
  });

  afterAll(() => new Promise<void>((resolve) => relay.close(() => resolve())));

  afterEach(async () => {
    await adapter?.close?.();
    adapter = undefined;
    logins.length = 0;
  });

  it('logs in with a user name and password given percent-encoded', async () => {
    const user = encodeURIComponent('postmaster@mg.acme.example');
    adapter = createEmailAdapter({
      from: 'hello@acme.example',
      // This relay offers no TLS: the URL allows the password in the clear.
      smtpUrl: `smtp://${user}:${encodeURIComponent(SES_PASSWORD)}@127.0.0.1:${port}/?requireTLS=false`,
    });
    expect(await adapter.send(deliveryFor('email'))).toMatchObject({ status: 'sent' });
    expect(logins).toEqual([{ user: 'postmaster@mg.acme.example', pass: SES_PASSWORD }]);
  });

  it('never sends the password to a server that offers no STARTTLS, unless the URL allows it', async () => {
    const user = encodeURIComponent('postmaster@mg.acme.example');
    const login = `smtp://${user}:${encodeURIComponent(SES_PASSWORD)}@127.0.0.1:${port}`;
    adapter = createEmailAdapter({ from: 'hello@acme.example', smtpUrl: login });
    // A server that does not offer STARTTLS, or an attacker who removed it from the EHLO answer.
    expect(await adapter.send(deliveryFor('email'))).toEqual({
      status: 'retry',
      reason: expect.stringMatching(/STARTTLS.*requireTLS=false/),
    });
    expect(logins).toEqual([]);
    await adapter.close?.();

    adapter = createEmailAdapter({ from: 'hello@acme.example', smtpUrl: `${login}/?requireTLS=false` });
    expect(await adapter.send(deliveryFor('email'))).toMatchObject({ status: 'sent' });
    expect(logins).toEqual([{ user: 'postmaster@mg.acme.example', pass: SES_PASSWORD }]);
  });

  it('refuses at creation a password whose / ? or # is not percent-encoded, without repeating it', () => {
    for (const pass of [SES_PASSWORD, 'pa#ss', 'pa?ss', '123/abc']) {
      const error = refusal(`smtp://postmaster:${pass}@smtp.example.com:587`);
      expect(error.option).toBe('smtpUrl');
      expect(error.message).toMatch(/percent-encode/);
      expect(error.message).toContain('%2F');
      expect(error.message).not.toContain(pass);
    }
    expect(logins).toEqual([]);
  });

  it('refuses a user name without a password, and a password without a user name, at start-up', async () => {
    const user = encodeURIComponent('postmaster@mg.acme.example');
    for (const url of [
      `smtp://${user}@127.0.0.1:${port}/?requireTLS=false`,
      `smtp://${user}:@127.0.0.1:${port}/?requireTLS=false`,
      `smtp://:${encodeURIComponent(SES_PASSWORD)}@127.0.0.1:${port}/?requireTLS=false`,
    ]) {
      const error = refusal(url);
      expect(error.option).toBe('smtpUrl');
      expect(error.message).toMatch(
        /has a (user name but no password|password but no user name).*To fix: .*smtp:\/\/user:password@/,
      );
      expect(() => loadConfig({ SMTP_URL: url })).toThrow(
        /SMTP_URL: it has a (user name but no password|password but no user name)/,
      );
    }
    // The relay never saw a login with an empty password.
    expect(logins).toEqual([]);
  });

  it('refuses a % that starts no percent-encoded character', () => {
    expect(refusal('smtp://postmaster:100%sure@smtp.example.com:587').message).toMatch(/% as %25/);
  });

  it('refuses smtp:// on port 465 and smtps:// on 587 or 25, naming the URL that works', () => {
    expect(refusal('smtp://u:p@smtp.example.com:465').message).toMatch(/To fix: write smtps:\/\//);
    expect(refusal('smtps://u:p@smtp.example.com:587').message).toMatch(/To fix: write smtp:\/\//);
    expect(refusal('smtps://u:p@smtp.example.com:25').message).toMatch(/To fix: write smtp:\/\//);
  });

  it('refuses options in the query that the adapter sets itself, which would be ignored', () => {
    expect(refusal('smtp://u:p@smtp.example.com:587/?maxConnections=1').message).toMatch(
      /sets maxConnections, which the email adapter sets itself.*To fix: .*SMTP_MAX_CONNECTIONS/,
    );
    expect(refusal('smtp://smtp.example.com:587/?pool=false&maxMessages=10').message).toMatch(
      /sets pool, maxMessages, which/,
    );
    expect(refusal('smtp://smtp.example.com:587/?socketTimeout=600000').message).toMatch(/socketTimeout/);
    expect(refusal('smtp://smtp.example.com:2465/?secure=true').message).toMatch(
      /sets secure, .*To fix: .*smtps:\/\//,
    );
    expect(
      loadConfig({ SMTP_URL: 'smtp://smtp.example.com:587/?name=mta.acme.example' }).SMTP_URL,
    ).toBeDefined();
  });

  it('stops start-up naming SMTP_URL, without the password', () => {
    const load = () => loadConfig({ SMTP_URL: `smtp://postmaster:${SES_PASSWORD}@smtp.example.com:587` });
    expect(load).toThrow(ConfigError);
    expect(load).toThrow(/SMTP_URL: .*percent-encode/);
    try {
      load();
    } catch (error) {
      expect((error as Error).message).not.toContain(SES_PASSWORD);
    }
    expect(loadConfig({ SMTP_URL: 'smtps://u:p%2Fw@smtp.example.com:465' }).SMTP_URL).toBe(
      'smtps://u:p%2Fw@smtp.example.com:465',
    );
  });
});

describe('an SMTP URL with TLS', () => {
  let sink: SmtpSink;

  beforeAll(async () => {
    sink = await startSmtpSink({ tls: 'implicit' });
  });

  afterAll(() => sink.close());

  it('keeps its tls.* options', async () => {
    const adapter = createEmailAdapter({ from: 'hello@acme.example', smtpUrl: sink.url });
    try {
      expect(await adapter.send(deliveryFor('email'))).toMatchObject({ status: 'sent' });
      expect(sink.secured).toEqual([true]);
    } finally {
      await adapter.close?.();
    }
  });
});
