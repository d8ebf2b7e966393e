import { createServer as createHttpServer } from 'node:http';
import { createServer, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { FakeClock } from '../../engine/clock.js';
import { verifyWebhook, generateWebhookSecret } from '../../engine/channels/standard-webhooks.js';
import { createWebhookAdapter } from '../../engine/channels/webhook-adapter.js';
import { createChannelAdapters } from '../../engine/channels/default-adapters.js';
import { loadConfig } from '../../engine/config.js';
import { testRedis } from '../support/redis.js';
import { startSmtpSink } from '../support/smtp-sink.js';
import { deliveryFor, startHttpServer, type Reply } from './support.js';

const secret = generateWebhookSecret();
const start = Date.parse('2026-03-01T12:00:00Z');

describe('the webhook adapter', () => {
  let server: Awaited<ReturnType<typeof startHttpServer>> | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  async function receiver(...replies: Reply[]) {
    server = await startHttpServer(...replies);
    return server;
  }

  it('posts the payload wrapped as a chorus.message, signed so the receiver can verify it', async () => {
    const { url, requests } = await receiver({ status: 204 });
    const clock = new FakeClock(start);
    const webhook = createWebhookAdapter({ secret, allowPrivateTargets: true, clock });
    const delivery = deliveryFor('webhook', { address: { webhookUrl: `${url}/hooks/chorus?x=1` } });

    const result = await webhook.send(delivery);

    expect(result).toEqual({ status: 'sent', providerId: delivery.opId, detail: 'HTTP 204' });
    const [request] = requests;
    expect(request).toMatchObject({ method: 'POST', url: '/hooks/chorus?x=1' });
    expect(request!.headers['content-type']).toBe('application/json');
    expect(request!.headers['webhook-id']).toBe(delivery.opId);
    expect(request!.headers['webhook-timestamp']).toBe(String(start / 1000));
    expect(verifyWebhook(secret, request!.headers, request!.body, { now: start + 5_000 })).toEqual({
      id: delivery.opId,
      timestamp: start / 1000,
    });
    expect(JSON.parse(request!.body.toString())).toEqual({
      type: 'chorus.message',
      timestamp: '2026-03-01T12:00:00.000Z',
      data: { event: 'workspace.ready', customer: 'ada', amount: 12.5 },
    });
  });

  it('sends a signature the receiver rejects once the body is tampered with or the timestamp is stale', async () => {
    const { url, requests } = await receiver({ status: 200 });
    const webhook = createWebhookAdapter({ secret, allowPrivateTargets: true, clock: new FakeClock(start) });
    await webhook.send(deliveryFor('webhook', { address: { webhookUrl: url } }));
    const { headers, body } = requests[0]!;

    const tampered = body.toString().replace('12.5', '125');
    expect(() => verifyWebhook(secret, headers, tampered, { now: start })).toThrow(
      /No webhook-signature matches/,
    );
    expect(() => verifyWebhook(secret, headers, body, { now: start + 10 * 60_000 })).toThrow(/600 s old/);
  });

  it('signs with old and new secrets during a rotation, so a receiver on the new one accepts', async () => {
    const { url, requests } = await receiver({ status: 200 });
    const next = generateWebhookSecret();
    const webhook = createWebhookAdapter({
      secret: [secret, next],
      allowPrivateTargets: true,
      clock: new FakeClock(start),
    });
    await webhook.send(deliveryFor('webhook', { address: { webhookUrl: url } }));
    const { headers, body } = requests[0]!;

    expect(String(headers['webhook-signature']).split(' ')).toHaveLength(2);
    expect(verifyWebhook(next, headers, body, { now: start }).id).toBe('s-ada-onboarding.1-3-0');
  });

  it('signs with every secret WEBHOOK_SECRET lists, so a process can rotate its secret without downtime', async () => {
    // With one secret only, a rotation had every receiver switch at the restart: a receiver still
    // on the old key answered 401, and a 401 fails the send for good.
    const { url, requests } = await receiver({ status: 200 });
    const next = generateWebhookSecret();
    const config = loadConfig({ WEBHOOK_SECRET: `${next} ${secret}`, WEBHOOK_ALLOW_PRIVATE: 'true' });
    expect(config.WEBHOOK_SECRET).toEqual([next, secret]);
    const ctx = testRedis();
    try {
      const { webhook } = createChannelAdapters({
        redis: ctx.redis,
        prefix: ctx.prefix,
        outboxDir: 'outbox',
        mailFrom: 'Acme <hello@acme.example>',
        webhook: { secret: config.WEBHOOK_SECRET!, allowPrivateTargets: config.WEBHOOK_ALLOW_PRIVATE },
      });
      const sent = await webhook!.send(deliveryFor('webhook', { address: { webhookUrl: url } }));
      expect(sent).toMatchObject({ status: 'sent' });
    } finally {
      await ctx.cleanup();
    }
    const { headers, body } = requests[0]!;
    for (const key of [secret, next])
      expect(verifyWebhook(key, headers, body).id).toBe('s-ada-onboarding.1-3-0');
  });

  it('retries 429 after Retry-After and 500, and fails 400 for good', async () => {
    const { url } = await receiver(
      { status: 429, headers: { 'retry-after': '2' } },
      { status: 500 },
      { status: 400 },
    );
    const webhook = createWebhookAdapter({ secret, allowPrivateTargets: true });
    const delivery = deliveryFor('webhook', { address: { webhookUrl: url } });

    expect(await webhook.send(delivery)).toMatchObject({ status: 'retry', afterMs: 2000 });
    expect(await webhook.send(delivery)).toMatchObject({ status: 'retry' });
    expect(await webhook.send(delivery)).toEqual({
      status: 'failed',
      reason: `webhook ${url} answered HTTP 400`,
    });
  });

  it('does not follow a redirect: it fails the delivery', async () => {
    const { url, requests } = await receiver({
      status: 302,
      headers: { location: 'http://169.254.169.254/latest' },
    });
    const webhook = createWebhookAdapter({ secret, allowPrivateTargets: true });

    const result = await webhook.send(deliveryFor('webhook', { address: { webhookUrl: url } }));

    expect(result).toEqual({
      status: 'failed',
      reason: expect.stringContaining('redirect to http://169.254.169.254/latest not followed'),
    });
    expect(requests).toHaveLength(1);
  });

  it('retries a receiver that does not answer within the timeout', async () => {
    const { url } = await receiver('hang');
    const webhook = createWebhookAdapter({ secret, allowPrivateTargets: true, timeoutMs: 300 });
    expect(await webhook.send(deliveryFor('webhook', { address: { webhookUrl: url } }))).toEqual({
      status: 'retry',
      reason: `webhook ${url} did not answer within 300 ms`,
      mayHaveArrived: true,
    });
  });

  it('counts a webhook delivered once the receiver answered 2xx, even if its body then stalls or breaks off', async () => {
    for (const unfinished of ['hang', 'reset'] as const) {
      const { url } = await receiver({ status: 200, body: '{"ok":', unfinished });
      const webhook = createWebhookAdapter({ secret, allowPrivateTargets: true, timeoutMs: 300 });
      const delivery = deliveryFor('webhook', { address: { webhookUrl: url } });
      expect(await webhook.send(delivery)).toEqual({
        status: 'sent',
        providerId: delivery.opId,
        detail: 'HTTP 200',
      });
      await server?.close();
      server = undefined;
    }
  });

  it('retries, as not sent, a receiver whose TLS certificate is refused: the request never left', async () => {
    // A TLS server with a self-signed certificate: the handshake fails before the request is sent.
    const tls = await startSmtpSink({ tls: 'implicit' });
    try {
      const webhook = createWebhookAdapter({ secret, allowPrivateTargets: true, timeoutMs: 2000 });
      const url = `https://127.0.0.1:${tls.port}/hooks`;
      expect(await webhook.send(deliveryFor('webhook', { address: { webhookUrl: url } }))).toEqual({
        status: 'retry',
        reason: expect.stringMatching(/certificate/),
      });
    } finally {
      await tls.close();
    }
  });

  it('retries, as not sent, a receiver that never completes the TLS handshake within the timeout', async () => {
    // TCP connects, then the receiver says nothing: the request waits for TLS and is never written.
    const sockets: Socket[] = [];
    const silent = createServer((socket) => sockets.push(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    try {
      const webhook = createWebhookAdapter({ secret, allowPrivateTargets: true, timeoutMs: 300 });
      const url = `https://127.0.0.1:${(silent.address() as AddressInfo).port}/hooks`;
      expect(await webhook.send(deliveryFor('webhook', { address: { webhookUrl: url } }))).toEqual({
        status: 'retry',
        reason: `webhook ${new URL(url).origin} could not be reached: no connection within 300 ms`,
      });
      expect(sockets).toHaveLength(1);
    } finally {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => silent.close(() => resolve()));
    }
  });

  it('refuses loopback, private and link-local targets and other schemes unless allowed, sending nothing', async () => {
    const { port, requests } = await receiver({ status: 200 });
    const webhook = createWebhookAdapter({
      secret,
      // A name that resolves to a private address is refused like the address itself.
      lookup: async (host) =>
        host === 'intranet.example'
          ? [
              { address: '203.0.113.9', family: 4 },
              { address: '10.1.2.3', family: 4 },
            ]
          : [],
    });
    const targets = [
      `http://127.0.0.1:${port}/`,
      `http://[::1]:${port}/`,
      `http://[::ffff:127.0.0.1]:${port}/`,
      'http://10.0.0.8/',
      'http://172.20.1.1/',
      'https://192.168.1.10/',
      'http://169.254.169.254/latest/meta-data',
      'http://[fe80::1]/',
      'http://[fd00::1]/',
      'http://0.0.0.0/',
      'https://intranet.example/hook',
    ];
    for (const webhookUrl of targets) {
      const result = await webhook.send(deliveryFor('webhook', { address: { webhookUrl } }));
      expect(result, webhookUrl).toEqual({
        status: 'failed',
        reason: expect.stringContaining('not a public address'),
      });
    }
    expect(
      await webhook.send(deliveryFor('webhook', { address: { webhookUrl: 'file:///etc/passwd' } })),
    ).toEqual({
      status: 'failed',
      reason: 'webhook URLs must be http(s), not file:',
    });
    expect(await webhook.send(deliveryFor('webhook', { address: {} }))).toEqual({
      status: 'failed',
      reason: 'the customer has no webhook URL',
    });
    expect(requests).toHaveLength(0);
  });

  it('refuses localhost by resolving it', async () => {
    const { port, requests } = await receiver({ status: 200 });
    const webhook = createWebhookAdapter({ secret });
    const result = await webhook.send(
      deliveryFor('webhook', { address: { webhookUrl: `http://localhost:${port}/` } }),
    );
    expect(result).toEqual({ status: 'failed', reason: expect.stringContaining('resolves to') });
    expect(requests).toHaveLength(0);
  });

  it('retries when the host name does not resolve within the timeout', async () => {
    const webhook = createWebhookAdapter({ secret, timeoutMs: 100, lookup: () => new Promise(() => {}) });
    expect(await webhook.send(deliveryFor('webhook'))).toEqual({
      status: 'retry',
      reason: 'could not resolve webhook host hooks.example: resolving hooks.example took longer than 100 ms',
    });
  });

  it('connects to the address it checked, keeping the host name for the Host header', async () => {
    const { port, requests } = await receiver({ status: 200 });
    let lookups = 0;
    const webhook = createWebhookAdapter({
      secret,
      allowPrivateTargets: true,
      lookup: async () => {
        lookups += 1;
        return [{ address: '127.0.0.1', family: 4 }];
      },
    });
    const result = await webhook.send(
      deliveryFor('webhook', { address: { webhookUrl: `http://hooks.customer.example:${port}/in` } }),
    );
    expect(result.status).toBe('sent');
    expect(lookups).toBe(1);
    expect(requests[0]!.headers.host).toBe(`hooks.customer.example:${port}`);
  });

  it('counts the time spent resolving the host against the deadline of the whole request', async () => {
    // A receiver that answers after 150 ms, behind a resolver that takes 300 ms of the 400.
    const slow = createHttpServer((_request, response) => {
      setTimeout(() => response.writeHead(200).end(), 150);
    });
    await new Promise<void>((resolve) => slow.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = slow.address() as AddressInfo;
      const webhook = createWebhookAdapter({
        secret,
        allowPrivateTargets: true,
        timeoutMs: 400,
        lookup: () =>
          new Promise((resolve) => setTimeout(() => resolve([{ address: '127.0.0.1', family: 4 }]), 300)),
      });
      const result = await webhook.send(
        deliveryFor('webhook', { address: { webhookUrl: `http://slow.customer.example:${port}/in` } }),
      );
      expect(result).toEqual({
        status: 'retry',
        reason: `webhook http://slow.customer.example:${port} did not answer within 400 ms`,
        mayHaveArrived: true,
      });
    } finally {
      slow.closeAllConnections();
      await new Promise<void>((resolve) => slow.close(() => resolve()));
    }
  });

  it('tries the next address the host resolves to, all checked, when the first cannot be reached', async () => {
    // A dual-stack receiver seen from a network whose route to its first address is broken: any
    // HTTP client moves on to the next address, and so must the pinned connection.
    const { port, requests } = await receiver({ status: 200 });
    const webhook = createWebhookAdapter({
      secret,
      allowPrivateTargets: true,
      // Nothing listens on 127.0.0.2 (the receiver is bound to 127.0.0.1): refused at once.
      lookup: async () => [
        { address: '127.0.0.2', family: 4 },
        { address: '127.0.0.1', family: 4 },
      ],
    });
    const result = await webhook.send(
      deliveryFor('webhook', { address: { webhookUrl: `http://dual.customer.example:${port}/in` } }),
    );
    expect(result).toMatchObject({ status: 'sent' });
    expect(requests).toHaveLength(1);
  });
});
