import { createServer, type AddressInfo, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createPushAdapter } from '../../engine/channels/push-adapter.js';
import { FakeClock } from '../../engine/clock.js';
import { PUSH_PAYLOAD_LIMIT } from '../../engine/messages/push-payload.js';
import { deliveryFor, startHttpServer, type Reply } from './support.js';

const fcmError = (code: number, status: string, errorCode: string, message: string) => ({
  status: code,
  body: JSON.stringify({
    error: {
      code,
      message,
      status,
      details: [{ '@type': 'type.googleapis.com/google.firebase.fcm.v1.FcmError', errorCode }],
    },
  }),
});

describe('the push adapter against an FCM-style server', () => {
  let server: Awaited<ReturnType<typeof startHttpServer>> | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  async function adapterAnswering(...replies: Reply[]) {
    return adapterWith({}, ...replies);
  }

  async function adapterWith(options: { clock?: FakeClock }, ...replies: Reply[]) {
    server = await startHttpServer(...replies);
    let issued = 0;
    return createPushAdapter({
      projectId: 'acme-app',
      accessToken: async () => `token-${++issued}`,
      baseUrl: server.url,
      ...options,
    });
  }

  const pushed = { status: 200, body: JSON.stringify({ name: 'projects/acme-app/messages/0:1' }) };
  const rendered = {
    channel: 'push' as const,
    title: 'Sale ends tonight',
    body: 'Everything 20% off',
    url: 'https://acme.example/sale',
  };

  it('posts the notification with a bearer token and returns the message name', async () => {
    const push = await adapterAnswering({
      status: 200,
      body: JSON.stringify({ name: 'projects/acme-app/messages/0:1' }),
    });
    const delivery = deliveryFor('push');

    expect(await push.send(delivery)).toEqual({
      status: 'sent',
      providerId: 'projects/acme-app/messages/0:1',
    });
    const [request] = server!.requests;
    expect(request).toMatchObject({ method: 'POST', url: '/v1/projects/acme-app/messages:send' });
    expect(request!.headers.authorization).toBe('Bearer token-1');
    expect(JSON.parse(request!.body.toString())).toEqual({
      message: {
        token: 'device-token-1',
        notification: { title: 'Workspace ready', body: 'Tap to get started' },
        data: { url: 'https://acme.example/start', opId: delivery.opId },
        // A browser opens only this link on a click; without it, clicking did nothing.
        webpush: { fcm_options: { link: 'https://acme.example/start' } },
      },
    });
  });

  it('sends a deep link as data only: a web push link must be https, and FCM refuses the message otherwise', async () => {
    const push = await adapterAnswering({ status: 200, body: JSON.stringify({ name: 'm' }) });
    for (const url of ['acme://start', 'http://acme.example/start']) {
      const delivery = deliveryFor('push', {
        rendered: { channel: 'push', title: 'Workspace ready', body: 'Tap to get started', url },
      });
      expect(await push.send(delivery)).toMatchObject({ status: 'sent' });
    }
    expect(server!.requests.map((r) => JSON.parse(r.body.toString()) as unknown)).toEqual([
      { message: expect.not.objectContaining({ webpush: expect.anything() }) },
      { message: expect.not.objectContaining({ webpush: expect.anything() }) },
    ]);
    expect(
      server!.requests.map(
        (r) => (JSON.parse(r.body.toString()) as { message: { data: unknown } }).message.data,
      ),
    ).toEqual([
      { url: 'acme://start', opId: 's-ada-onboarding.1-3-0' },
      { url: 'http://acme.example/start', opId: 's-ada-onboarding.1-3-0' },
    ]);
  });

  it('fails an unregistered token as gone for good, to be suppressed', async () => {
    const push = await adapterAnswering(
      fcmError(404, 'NOT_FOUND', 'UNREGISTERED', 'Requested entity was not found.'),
    );
    expect(await push.send(deliveryFor('push'))).toEqual({
      status: 'failed',
      reason: expect.stringMatching(
        /HTTP 404 UNREGISTERED: the push token of customer ada is no longer registered.*suppressed/,
      ),
      addressUnusable: true,
      addressGone: true,
    });
  });

  it('fails a malformed token, saying the token is invalid', async () => {
    const push = await adapterAnswering(
      fcmError(
        400,
        'INVALID_ARGUMENT',
        'INVALID_ARGUMENT',
        'The registration token is not a valid FCM registration token',
      ),
    );
    expect(await push.send(deliveryFor('push'))).toEqual({
      status: 'failed',
      reason: expect.stringMatching(/token of customer ada is invalid.*not a valid FCM registration token/),
      addressUnusable: true,
    });
  });

  it('fails a message FCM finds invalid without blaming the token, which is still good', async () => {
    const push = await adapterAnswering({
      status: 400,
      body: JSON.stringify({
        error: {
          code: 400,
          message: 'Invalid JSON payload received. Unknown name "sound" at \'message.notification\'',
          status: 'INVALID_ARGUMENT',
          details: [
            { '@type': 'type.googleapis.com/google.firebase.fcm.v1.FcmError', errorCode: 'INVALID_ARGUMENT' },
            {
              '@type': 'type.googleapis.com/google.rpc.BadRequest',
              fieldViolations: [{ field: 'message.notification', description: 'Unknown name "sound"' }],
            },
          ],
        },
      }),
    });
    const result = await push.send(deliveryFor('push'));
    expect(result).toEqual({
      status: 'failed',
      reason: expect.stringMatching(/^FCM answered HTTP 400: INVALID_ARGUMENT Invalid JSON payload received/),
    });
    expect(result.status === 'failed' && result.reason).not.toMatch(/token|remove/);
  });

  it('fails a token FCM names in a field violation, saying the token is invalid', async () => {
    const push = await adapterAnswering({
      status: 400,
      body: JSON.stringify({
        error: {
          code: 400,
          message: 'Request contains an invalid argument.',
          status: 'INVALID_ARGUMENT',
          details: [
            { '@type': 'type.googleapis.com/google.firebase.fcm.v1.FcmError', errorCode: 'INVALID_ARGUMENT' },
            {
              '@type': 'type.googleapis.com/google.rpc.BadRequest',
              fieldViolations: [{ field: 'message.token', description: 'Invalid registration token' }],
            },
          ],
        },
      }),
    });
    expect(await push.send(deliveryFor('push'))).toEqual({
      status: 'failed',
      reason: expect.stringMatching(/HTTP 400 INVALID_ARGUMENT: the push token of customer ada is invalid/),
      addressUnusable: true,
    });
  });

  it('retries, as not sent, when FCM never completes the TLS handshake within the timeout', async () => {
    // The notification was never written: it cannot have arrived, and is sent again as it is.
    const sockets: Socket[] = [];
    const silent = createServer((socket) => sockets.push(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    try {
      const push = createPushAdapter({
        projectId: 'acme-app',
        accessToken: async () => 'token-1',
        baseUrl: `https://127.0.0.1:${(silent.address() as AddressInfo).port}`,
        timeoutMs: 300,
      });
      expect(await push.send(deliveryFor('push'))).toEqual({
        status: 'retry',
        reason: 'FCM could not be reached: no connection within 300 ms',
      });
    } finally {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => silent.close(() => resolve()));
    }
  });

  it('retries when FCM is unavailable, after its Retry-After', async () => {
    const push = await adapterAnswering({
      ...fcmError(503, 'UNAVAILABLE', 'UNAVAILABLE', 'The service is currently unavailable.'),
      headers: { 'retry-after': '10' },
    });
    expect(await push.send(deliveryFor('push'))).toEqual({
      status: 'retry',
      reason: 'FCM answered HTTP 503: UNAVAILABLE The service is currently unavailable.',
      afterMs: 10_000,
    });
  });

  it('does not renew its access token when FCM says its APNs or web push key is at fault, and says so', async () => {
    server = await startHttpServer(
      fcmError(401, 'UNAUTHENTICATED', 'THIRD_PARTY_AUTH_ERROR', 'Auth error from APNS or Web Push Service'),
    );
    let issued = 0;
    const push = createPushAdapter({
      projectId: 'acme-app',
      accessToken: async () => `token-${++issued}`,
      baseUrl: server.url,
    });

    const result = await push.send(deliveryFor('push'));

    // The access token was fine: FCM could not authenticate with Apple or the web push service.
    expect(result).toEqual({
      status: 'retry',
      reason: expect.stringMatching(
        /^FCM answered HTTP 401 THIRD_PARTY_AUTH_ERROR: .*APNs.*web push.*Firebase project.*Auth error from APNS/,
      ),
    });
    expect(result.status === 'retry' && result.reason).not.toMatch(/access token/);
    expect(server.requests).toHaveLength(1);
    expect(issued).toBe(1);
  });

  it("retries a 403 PERMISSION_DENIED: the service account's rights or the project's API, not the message, are at fault", async () => {
    const push = await adapterAnswering({
      status: 403,
      body: JSON.stringify({
        error: {
          code: 403,
          message:
            'Firebase Cloud Messaging API has not been used in project 1234 before or it is disabled. Enable it ...',
          status: 'PERMISSION_DENIED',
          details: [{ '@type': 'type.googleapis.com/google.rpc.ErrorInfo', reason: 'SERVICE_DISABLED' }],
        },
      }),
    });
    expect(await push.send(deliveryFor('push'))).toEqual({
      status: 'retry',
      reason: expect.stringMatching(
        /^FCM answered HTTP 403 PERMISSION_DENIED: .*service account.*Firebase Cloud Messaging API has not been used/,
      ),
    });
  });

  it('still fails a 403 SENDER_ID_MISMATCH for good, but not as gone: a wrong FCM_PROJECT_ID meets it for every token', async () => {
    const push = await adapterAnswering(
      fcmError(403, 'PERMISSION_DENIED', 'SENDER_ID_MISMATCH', 'SenderId mismatch'),
    );
    expect(await push.send(deliveryFor('push'))).toEqual({
      status: 'failed',
      reason: expect.stringMatching(/HTTP 403 SENDER_ID_MISMATCH: the push token of customer ada is invalid/),
      addressUnusable: true,
    });
  });

  it('fails a customer without a push token without calling FCM', async () => {
    const push = await adapterAnswering({ status: 200 });
    expect(await push.send(deliveryFor('push', { address: {} }))).toEqual({
      status: 'failed',
      reason: 'customer ada has no push token',
    });
    expect(server!.requests).toHaveLength(0);
  });

  it("sends the message's time to live and collapse key to Android, APNs and web push", async () => {
    const clock = new FakeClock(Date.parse('2026-12-07T18:00:00Z'));
    const push = await adapterWith({ clock }, pushed);
    const delivery = deliveryFor('push', {
      rendered: { ...rendered, ttlMs: 12 * 3_600_000, collapseKey: 'sale' },
    });

    expect(await push.send(delivery)).toMatchObject({ status: 'sent' });
    const { message } = JSON.parse(server!.requests[0]!.body.toString());
    expect(message.android).toEqual({ ttl: '43200s', collapse_key: 'sale' });
    expect(message.apns).toEqual({
      // APNs takes the moment it gives up, in seconds since the epoch: twelve hours from the send.
      headers: {
        'apns-expiration': String(Date.parse('2026-12-08T06:00:00Z') / 1000),
        'apns-collapse-id': 'sale',
      },
    });
    expect(message.webpush).toEqual({
      headers: { TTL: '43200' },
      fcm_options: { link: 'https://acme.example/sale' },
    });
  });

  it('sends a time to live of 0 as now or never, to APNs as expiration 0', async () => {
    const push = await adapterAnswering(pushed);
    await push.send(deliveryFor('push', { rendered: { ...rendered, ttlMs: 0 } }));
    const { message } = JSON.parse(server!.requests[0]!.body.toString());
    expect(message.android).toEqual({ ttl: '0s' });
    expect(message.apns).toEqual({ headers: { 'apns-expiration': '0' } });
  });

  it("leaves FCM's defaults alone for a message that sets neither", async () => {
    const push = await adapterAnswering(pushed);
    await push.send(deliveryFor('push', { rendered }));
    const { message } = JSON.parse(server!.requests[0]!.body.toString());
    expect(Object.keys(message).sort()).toEqual(['data', 'notification', 'token', 'webpush']);
  });

  it('fails a push over the 4096 bytes FCM takes without calling FCM, saying how big it is and why', async () => {
    const push = await adapterAnswering(pushed);
    const body = 'ü'.repeat(2100); // 4200 bytes in UTF-8
    const result = await push.send(deliveryFor('push', { rendered: { ...rendered, body } }));

    expect(result).toMatchObject({ status: 'failed' });
    expect(result).not.toHaveProperty('addressUnusable');
    expect((result as { reason: string }).reason).toMatch(
      new RegExp(
        `^the push of message "welcome" is \\d+ bytes as rendered \\(title 17 characters, body 2100, link 25\\), over the ${PUSH_PAYLOAD_LIMIT} FCM takes`,
      ),
    );
    expect(server!.requests).toHaveLength(0);
  });

  it('sends a push just within the limit', async () => {
    const push = await adapterAnswering(pushed);
    const base = JSON.stringify({
      notification: { title: rendered.title, body: '' },
      data: { url: rendered.url, opId: deliveryFor('push').opId },
    }).length;
    const body = 'a'.repeat(PUSH_PAYLOAD_LIMIT - base);
    expect(await push.send(deliveryFor('push', { rendered: { ...rendered, body } }))).toMatchObject({
      status: 'sent',
    });
  });
});
