import { afterEach, describe, expect, it } from 'vitest';
import type { ChannelAdapter } from '../../engine/channels/channel-adapter.js';
import { createEmailAdapter } from '../../engine/channels/email-adapter.js';
import { startSmtpSink, type SmtpSink, type SmtpSinkTls } from '../support/smtp-sink.js';
import { closedPort, deliveryFor } from './support.js';

describe('the email adapter on its own TCP_NODELAY sockets', () => {
  let sink: SmtpSink | undefined;
  let adapter: ChannelAdapter | undefined;

  afterEach(async () => {
    await adapter?.close?.();
    await sink?.close();
    adapter = undefined;
    sink = undefined;
  });

  async function adapterTo(tls: SmtpSinkTls, maxConnections = 5) {
    sink = await startSmtpSink({ tls });
    adapter = createEmailAdapter({ from: 'Acme <hello@acme.example>', smtpUrl: sink.url, maxConnections });
    return { sink, adapter };
  }

  it.each([
    ['plain smtp://', 'none', false],
    ['smtps:// (TLS from the first byte)', 'implicit', true],
    ['smtp:// upgraded with STARTTLS', 'starttls', true],
  ] as const)('delivers over %s', async (_name, tls, secured) => {
    const { sink, adapter } = await adapterTo(tls);

    const result = await adapter.send(deliveryFor('email'));

    expect(result).toMatchObject({ status: 'sent' });
    expect(sink.received.map((mail) => mail.subject)).toEqual(['Your workspace is ready']);
    expect(sink.secured).toEqual([secured]);
  });

  it('sends one message after another on one connection without waiting for a delayed ACK', async () => {
    const { sink, adapter } = await adapterTo('none', 1);
    await adapter.send(deliveryFor('email')); // connects; not timed

    // With Nagle on, each message's final `.` waits for the server's delayed ACK: 40 ms or more
    // a message on Linux. Without it a message takes a few ms of CPU. The fastest of ten sends
    // tells them apart even on a busy machine, where CPU time can stretch any single send.
    const times: number[] = [];
    for (let i = 0; i < 10; i++) {
      const started = performance.now();
      const result = await adapter.send(deliveryFor('email', { opId: `s-ada-${i}` }));
      times.push(performance.now() - started);
      expect(result).toMatchObject({ status: 'sent' });
    }

    expect(sink.received).toHaveLength(11);
    expect(Math.min(...times)).toBeLessThan(25);
  });

  it('answers retry when nothing listens on the SMTP port', async () => {
    adapter = createEmailAdapter({
      from: 'Acme <hello@acme.example>',
      smtpUrl: `smtp://127.0.0.1:${await closedPort()}`,
    });
    expect(await adapter.send(deliveryFor('email'))).toEqual({
      status: 'retry',
      reason: expect.stringMatching(/SMTP server not reachable: .*ECONNREFUSED/),
    });
  });

  it('keeps answering retry after more refused connections than the pool has', async () => {
    adapter = createEmailAdapter({
      from: 'Acme <hello@acme.example>',
      smtpUrl: `smtp://127.0.0.1:${await closedPort()}`,
      maxConnections: 2,
    });
    // A refused connection once stayed in the pool as busy: after as many refusals as the pool
    // has connections, every later send waited for a free one, for ever.
    for (let attempt = 0; attempt < 4; attempt++) {
      const answer = await Promise.race([
        adapter.send(deliveryFor('email', { opId: `s-ada-${attempt}` })),
        new Promise((resolve) => setTimeout(resolve, 2_000, 'no answer within 2 s')),
      ]);
      expect(answer).toEqual({
        status: 'retry',
        reason: expect.stringMatching(/SMTP server not reachable: .*ECONNREFUSED/),
      });
    }
  });
});
