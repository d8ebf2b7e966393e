import { afterEach, describe, expect, it } from 'vitest';
import {
  createInAppAdapter,
  createInAppToken,
  createUnsubscribeToken,
  MAX_IN_APP_TOKEN_TTL_SECONDS,
} from '../../engine/index.js';
import { onboarding } from '../fixtures/journeys/onboarding.js';
import { deliveryFor } from '../channels/support.js';
import { inAppTokenFor, loadInbox } from '../../docs/examples/in-app-token.js';
import { httpHarness, IN_APP_TOKEN_SECRET, UNSUBSCRIBE_SECRET, type HttpHarness } from '../support/http.js';

const APP_ORIGIN = 'https://app.example.com';

describe('in-app tokens on the in-app routes', () => {
  let h: HttpHarness;
  afterEach(() => h.close());

  async function withInbox(options: Parameters<typeof httpHarness>[0] = { journeys: [onboarding] }) {
    h = await httpHarness({ workers: false, ...options });
    const inApp = createInAppAdapter({ redis: h.redis, prefix: h.prefix, clock: h.clock });
    await inApp.send(deliveryFor('in-app', { opId: 'op-1' }));
    await inApp.send(deliveryFor('in-app', { opId: 'op-2' }));
  }
  const tokenFor = (userId: string, secret = IN_APP_TOKEN_SECRET, ttlSeconds = 3600) =>
    createInAppToken(secret, userId, { ttlSeconds, now: h.clock.now() });
  const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
  const inbox = async (headers: Record<string, string>) =>
    h.app.inject({ url: '/v1/customers/ada/in-app', headers });
  const ids = async () =>
    (await inbox(h.auth)).json<{ messages: Array<{ id: string; readAt: number | null }> }>().messages;

  it("lets an app read, mark read and dismiss its own customer's messages with a token", async () => {
    await withInbox();
    const headers = bearer(tokenFor('ada'));

    const list = await inbox(headers);
    expect(list.statusCode).toBe(200);
    expect(list.json<{ messages: Array<{ id: string }> }>().messages.map((m) => m.id)).toEqual([
      'op-2',
      'op-1',
    ]);
    const read = await h.app.inject({ method: 'POST', url: '/v1/customers/ada/in-app/op-1/read', headers });
    expect(read.json()).toEqual({ read: true });
    const dismissed = await h.app.inject({
      method: 'POST',
      url: '/v1/customers/ada/in-app/op-2/dismiss',
      headers,
    });
    expect(dismissed.json()).toEqual({ dismissed: true });
    expect(await ids()).toEqual(
      [{ id: 'op-1', readAt: h.clock.now() }].map((m) => expect.objectContaining(m)),
    );
  });

  it('refuses a token for another customer with 403, and changes nothing', async () => {
    await withInbox();
    const headers = bearer(tokenFor('bo'));
    for (const request of [
      { method: 'GET' as const, url: '/v1/customers/ada/in-app' },
      { method: 'POST' as const, url: '/v1/customers/ada/in-app/op-1/read' },
      { method: 'POST' as const, url: '/v1/customers/ada/in-app/op-1/dismiss' },
    ]) {
      const answer = await h.app.inject({ ...request, headers });
      expect(answer.statusCode, request.url).toBe(403);
      expect(answer.json()).toMatchObject({ error: { code: 'CHORUS_IN_APP_TOKEN_WRONG_CUSTOMER' } });
    }
    expect((await ids()).map((m) => [m.id, m.readAt])).toEqual([
      ['op-2', null],
      ['op-1', null],
    ]);
  });

  it('refuses an expired token with 401, naming it expired', async () => {
    await withInbox();
    const headers = bearer(tokenFor('ada', IN_APP_TOKEN_SECRET, 60));
    expect((await inbox(headers)).statusCode).toBe(200);
    h.clock.advance('61s');
    const answer = await inbox(headers);
    expect(answer.statusCode).toBe(401);
    expect(answer.json()).toMatchObject({ error: { code: 'CHORUS_IN_APP_TOKEN_EXPIRED' } });
    expect(answer.headers['www-authenticate']).toContain('invalid_token');
  });

  it('refuses a forged or altered token with 401', async () => {
    await withInbox();
    const [, signature] = tokenFor('bo').split('.');
    const forged = [
      tokenFor('ada', 'another-secret-of-sixteen'),
      // Ada's claim under Bo's signature.
      `${tokenFor('ada').split('.')[0]}.${signature}`,
      // Another kind of token signed with another secret: never an in-app one.
      createUnsubscribeToken(UNSUBSCRIBE_SECRET, { customerId: 'ada', scope: 'all' } as never),
    ];
    for (const token of forged) {
      const answer = await inbox(bearer(token));
      expect(answer.statusCode, token).toBe(401);
      expect(answer.json()).toMatchObject({ error: { code: 'CHORUS_IN_APP_TOKEN_INVALID' } });
    }
    // Not token-shaped: judged as an API key, as before.
    const wrongKey = await inbox(bearer('not-a-key'));
    expect(wrongKey.json()).toMatchObject({ error: { code: 'CHORUS_UNAUTHORIZED' } });
  });

  it('takes a token signed with a previous secret during a rotation', async () => {
    await withInbox({
      journeys: [onboarding],
      inAppTokenSecrets: ['new-in-app-secret-16', IN_APP_TOKEN_SECRET],
    });
    expect((await inbox(bearer(tokenFor('ada')))).statusCode).toBe(200);
    expect((await inbox(bearer(tokenFor('ada', 'new-in-app-secret-16')))).statusCode).toBe(200);
  });

  it('is refused everywhere when no secret is configured', async () => {
    await withInbox({ journeys: [onboarding], inAppTokenSecrets: [] });
    const answer = await inbox(bearer(tokenFor('ada')));
    expect(answer.statusCode).toBe(401);
    expect(answer.json()).toMatchObject({ error: { code: 'CHORUS_UNAUTHORIZED' } });
  });

  it('opens no other route, not even those of its own customer', async () => {
    await withInbox();
    const headers = bearer(tokenFor('ada'));
    const requests = [
      { method: 'GET' as const, url: '/v1/customers/ada' },
      { method: 'GET' as const, url: '/v1/customers/ada/export' },
      { method: 'DELETE' as const, url: '/v1/customers/ada' },
      { method: 'POST' as const, url: '/v1/track', payload: { userId: 'ada', event: 'Signed Up' } },
      { method: 'POST' as const, url: '/v1/identify', payload: { userId: 'ada', traits: { plan: 'pro' } } },
    ];
    for (const request of requests) {
      const answer = await h.app.inject({ ...request, headers });
      expect(answer.statusCode, `${request.method} ${request.url}`).toBe(401);
      expect(answer.json()).toMatchObject({ error: { code: 'CHORUS_UNAUTHORIZED' } });
    }
    // The erasure was refused: the inbox is still there.
    expect(await ids()).toHaveLength(2);
  });

  it('is made only with a life from 1 s to 7 days, for a customer id', () => {
    expect(() => createInAppToken(IN_APP_TOKEN_SECRET, 'ada', { ttlSeconds: 0 })).toThrow(RangeError);
    expect(() =>
      createInAppToken(IN_APP_TOKEN_SECRET, 'ada', { ttlSeconds: MAX_IN_APP_TOKEN_TTL_SECONDS + 1 }),
    ).toThrow(/ttlSeconds/);
    expect(() => createInAppToken(IN_APP_TOKEN_SECRET, '')).toThrow(/userId/);
    h = { close: async () => {} } as HttpHarness;
  });
});

describe('CORS on the in-app routes', () => {
  let h: HttpHarness;
  afterEach(() => h.close());

  it('answers a preflight from an allowed origin, with no key and no credentials', async () => {
    h = await httpHarness({ journeys: [onboarding], workers: false, inAppCorsOrigins: [APP_ORIGIN] });
    for (const url of [
      '/v1/customers/ada/in-app',
      '/v1/customers/ada/in-app/op-1/read',
      '/v1/customers/ada/in-app/op-1/dismiss',
    ]) {
      const preflight = await h.app.inject({
        method: 'OPTIONS',
        url,
        headers: {
          origin: APP_ORIGIN,
          'access-control-request-method': 'POST',
          'access-control-request-headers': 'authorization',
        },
      });
      expect(preflight.statusCode, url).toBe(204);
      expect(preflight.headers).toMatchObject({
        'access-control-allow-origin': APP_ORIGIN,
        'access-control-allow-methods': 'GET, POST',
        vary: 'Origin',
      });
      expect(preflight.headers['access-control-allow-headers']).toContain('authorization');
      expect(preflight.headers['access-control-allow-credentials']).toBeUndefined();
    }
  });

  it('gives another origin no CORS headers', async () => {
    h = await httpHarness({ journeys: [onboarding], workers: false, inAppCorsOrigins: [APP_ORIGIN] });
    const preflight = await h.app.inject({
      method: 'OPTIONS',
      url: '/v1/customers/ada/in-app',
      headers: { origin: 'https://evil.example', 'access-control-request-method': 'GET' },
    });
    expect(preflight.headers['access-control-allow-origin']).toBeUndefined();
    const list = await h.app.inject({
      url: '/v1/customers/ada/in-app',
      headers: { ...h.auth, origin: 'https://evil.example' },
    });
    expect(list.headers['access-control-allow-origin']).toBeUndefined();
  });

  it('lets the page read answers and refusals of the in-app routes, and of no other route', async () => {
    h = await httpHarness({ journeys: [onboarding], workers: false, inAppCorsOrigins: [APP_ORIGIN] });
    const token = createInAppToken(IN_APP_TOKEN_SECRET, 'ada', { now: h.clock.now() });
    const origin = { origin: APP_ORIGIN };
    const ok = await h.app.inject({
      url: '/v1/customers/ada/in-app',
      headers: { ...origin, authorization: `Bearer ${token}` },
    });
    expect(ok.statusCode).toBe(200);
    expect(ok.headers['access-control-allow-origin']).toBe(APP_ORIGIN);
    expect(ok.headers['access-control-expose-headers']).toContain('x-request-id');
    const refused = await h.app.inject({
      url: '/v1/customers/bo/in-app',
      headers: { ...origin, authorization: `Bearer ${token}` },
    });
    expect(refused.statusCode).toBe(403);
    expect(refused.headers['access-control-allow-origin']).toBe(APP_ORIGIN);

    const track = await h.app.inject({
      method: 'POST',
      url: '/v1/track',
      headers: { ...origin, ...h.auth },
      payload: { userId: 'ada', event: 'Signed Up' },
    });
    expect(track.statusCode).toBe(200);
    expect(track.headers['access-control-allow-origin']).toBeUndefined();
    const trackPreflight = await h.app.inject({
      method: 'OPTIONS',
      url: '/v1/track',
      headers: { ...origin, 'access-control-request-method': 'POST' },
    });
    expect(trackPreflight.headers['access-control-allow-origin']).toBeUndefined();
  });

  it('sends no CORS headers while no origin is configured', async () => {
    h = await httpHarness({ journeys: [onboarding], workers: false });
    const preflight = await h.app.inject({
      method: 'OPTIONS',
      url: '/v1/customers/ada/in-app',
      headers: { origin: APP_ORIGIN, 'access-control-request-method': 'GET' },
    });
    expect(preflight.headers['access-control-allow-origin']).toBeUndefined();
  });
});

describe('the README example of an in-app token', () => {
  let h: HttpHarness;
  afterEach(() => h.close());

  it("loads the customer's inbox over HTTP with a token its backend made", async () => {
    h = await httpHarness({ journeys: [onboarding], workers: false });
    const inApp = createInAppAdapter({ redis: h.redis, prefix: h.prefix, clock: h.clock });
    await inApp.send(deliveryFor('in-app', { opId: 'op-1' }));
    // The example reads the system clock: the harness's fake one is set to it.
    h.clock.set(Date.now());
    const url = await h.app.listen({ port: 0, host: '127.0.0.1' });
    const { token, expiresIn } = inAppTokenFor('ada', IN_APP_TOKEN_SECRET);
    expect(expiresIn).toBe(3600);
    expect((await loadInbox(url, 'ada', token)).map((m) => m.id)).toEqual(['op-1']);
    await expect(loadInbox(url, 'bo', token)).rejects.toThrow(/CHORUS_IN_APP_TOKEN_WRONG_CUSTOMER/);
  });
});
