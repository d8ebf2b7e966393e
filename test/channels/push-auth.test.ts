import { generateKeyPairSync } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { FakeClock } from '../../engine/clock.js';
import { ChannelConfigError } from '../../engine/channels/errors.js';
import { FCM_SCOPE } from '../../engine/channels/fcm-auth.js';
import { createPushAdapter } from '../../engine/channels/push-adapter.js';
import { startFakeGoogle, type FakeGoogleOptions } from './fake-google.js';
import { deliveryFor } from './support.js';

const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const privatePem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
const START = Date.parse('2026-03-01T12:00:00Z');

function serviceAccount(tokenUri: string, pem = privatePem) {
  return {
    type: 'service_account' as const,
    project_id: 'acme-app',
    private_key_id: 'key-1',
    private_key: pem,
    client_email: 'chorus@acme-app.iam.gserviceaccount.com',
    token_uri: tokenUri,
  };
}

describe('the push adapter with a service account', () => {
  let google: Awaited<ReturnType<typeof startFakeGoogle>> | undefined;
  afterEach(async () => {
    await google?.close();
    google = undefined;
  });

  async function setUp(options: Partial<FakeGoogleOptions> = {}) {
    const server = await startFakeGoogle({ publicKey, ...options });
    google = server;
    const clock = new FakeClock(START);
    const push = createPushAdapter({
      serviceAccount: serviceAccount(server.tokenUri),
      baseUrl: server.url,
      clock,
      timeoutMs: 2000,
    });
    return { google: server, clock, push };
  }

  it('exchanges an RS256 assertion signed with its key for a token, and sends with that token', async () => {
    const { google, push } = await setUp();

    expect(await push.send(deliveryFor('push'))).toEqual({
      status: 'sent',
      providerId: 'projects/acme-app/messages/1',
    });

    expect(google.tokenRequests).toEqual([
      {
        grantType: 'urn:ietf:params:oauth:grant-type:jwt-bearer',
        header: { alg: 'RS256', typ: 'JWT', kid: 'key-1' },
        claims: {
          iss: 'chorus@acme-app.iam.gserviceaccount.com',
          scope: FCM_SCOPE,
          aud: google.tokenUri,
          iat: START / 1000,
          exp: START / 1000 + 3600,
        },
        signatureValid: true,
      },
    ]);
    expect(google.fcmRequests.map((request) => request.authorization)).toEqual(['Bearer ya29.token-1']);
  });

  it('keeps its token for later sends and replaces it five minutes before it expires', async () => {
    const { google, clock, push } = await setUp();
    await push.send(deliveryFor('push'));

    clock.advance('54m59s');
    await push.send(deliveryFor('push'));
    expect(google.tokenRequests).toHaveLength(1);

    clock.advance('1s'); // 55 minutes: five before the hour is up
    await push.send(deliveryFor('push'));
    expect(google.tokenRequests).toHaveLength(2);
    expect(google.tokenRequests[1]!.claims.iat).toBe(START / 1000 + 55 * 60);
    expect(google.fcmRequests.map((request) => request.authorization)).toEqual([
      'Bearer ya29.token-1',
      'Bearer ya29.token-1',
      'Bearer ya29.token-2',
    ]);
  });

  it('gets a new token once and sends again when FCM refuses the one it holds', async () => {
    const { google, push } = await setUp();
    await push.send(deliveryFor('push'));
    google.revoke('ya29.token-1');

    expect(await push.send(deliveryFor('push'))).toMatchObject({ status: 'sent' });
    expect(google.tokenRequests).toHaveLength(2);
    expect(google.fcmRequests.map((request) => request.authorization)).toEqual([
      'Bearer ya29.token-1',
      'Bearer ya29.token-1',
      'Bearer ya29.token-2',
    ]);
  });

  it('lets concurrent sends share one token request, and one renewal after a 401', async () => {
    const { google, push } = await setUp();
    const sendMany = () => Promise.all(Array.from({ length: 8 }, () => push.send(deliveryFor('push'))));

    expect((await sendMany()).map((result) => result.status)).toEqual(Array(8).fill('sent'));
    expect(google.tokenRequests).toHaveLength(1);

    google.revoke('ya29.token-1');
    expect((await sendMany()).map((result) => result.status)).toEqual(Array(8).fill('sent'));
    expect(google.tokenRequests).toHaveLength(2);
  });

  it('refreshes early when the token endpoint grants a short-lived token', async () => {
    const { google, clock, push } = await setUp({ expiresInSeconds: 120 });
    await push.send(deliveryFor('push'));
    clock.advance('59s');
    await push.send(deliveryFor('push'));
    expect(google.tokenRequests).toHaveLength(1);
    clock.advance('1s'); // half of its two minutes
    await push.send(deliveryFor('push'));
    expect(google.tokenRequests).toHaveLength(2);
  });

  it('asks to try again later, without looping, when FCM refuses a fresh token too', async () => {
    const { google, push } = await setUp({ refuseAllTokens: true });

    expect(await push.send(deliveryFor('push'))).toEqual({
      status: 'retry',
      reason: 'FCM refused a fresh access token (HTTP 401): Request had invalid authentication credentials.',
    });
    expect(google.tokenRequests).toHaveLength(2);
    expect(google.fcmRequests).toHaveLength(2);
  });

  it("asks to try again later with the token endpoint's error when it refuses the assertion", async () => {
    const server = await startFakeGoogle({ publicKey });
    google = server;
    const otherKey = generateKeyPairSync('rsa', { modulusLength: 2048 })
      .privateKey.export({ type: 'pkcs8', format: 'pem' })
      .toString();
    const push = createPushAdapter({
      serviceAccount: serviceAccount(server.tokenUri, otherKey),
      baseUrl: server.url,
    });

    expect(await push.send(deliveryFor('push'))).toEqual({
      status: 'retry',
      reason:
        `could not get an FCM access token: the token endpoint ${server.tokenUri} answered HTTP 400: ` +
        'invalid_grant Invalid JWT Signature. for service account chorus@acme-app.iam.gserviceaccount.com',
    });
    expect(server.fcmRequests).toHaveLength(0);
  });
});

describe('the push adapter with a fixed access token', () => {
  it('does not resend with the same token when FCM refuses it, and says why', async () => {
    const google = await startFakeGoogle({ publicKey });
    try {
      const push = createPushAdapter({
        projectId: 'acme-app',
        accessToken: 'ya29.expired',
        baseUrl: google.url,
      });
      expect(await push.send(deliveryFor('push'))).toEqual({
        status: 'retry',
        reason: expect.stringMatching(
          /HTTP 401.*fixed access token lasts an hour: configure a service account/,
        ),
      });
      expect(google.fcmRequests).toHaveLength(1);
    } finally {
      await google.close();
    }
  });
});

describe('push adapter credentials', () => {
  const option = (create: () => unknown) => {
    try {
      create();
    } catch (error) {
      if (error instanceof ChannelConfigError) return error.option;
      throw error;
    }
    return 'no error';
  };
  const tokenUri = 'https://oauth2.googleapis.com/token';

  it.each([
    ['no credentials at all', () => createPushAdapter({ projectId: 'acme-app' }), 'serviceAccount'],
    [
      'a key that is not PEM',
      () => createPushAdapter({ serviceAccount: serviceAccount(tokenUri, 'not a key') }),
      'serviceAccount.private_key',
    ],
    [
      'a key file without client_email',
      () => createPushAdapter({ serviceAccount: { ...serviceAccount(tokenUri), client_email: '' } }),
      'serviceAccount',
    ],
    [
      'a key file without project_id and no projectId',
      () => createPushAdapter({ serviceAccount: { ...serviceAccount(tokenUri), project_id: undefined } }),
      'projectId',
    ],
    [
      'both a service account and a token',
      () => createPushAdapter({ serviceAccount: serviceAccount(tokenUri), accessToken: 't' }),
      'accessToken',
    ],
    ['a token without a project', () => createPushAdapter({ accessToken: 'ya29.x' }), 'projectId'],
  ])('refuses %s at creation', (_name, create, expected) => {
    expect(option(create)).toBe(expected);
  });
});
