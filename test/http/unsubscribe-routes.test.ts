import { AsyncLocalStorage } from 'node:async_hooks';
import Fastify from 'fastify';
import { chromium, devices } from 'playwright-core';
import { serializerCompiler, validatorCompiler } from 'fastify-type-provider-zod';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { unsubscribeRoutes } from '../../engine/http/routes/unsubscribe-routes.js';
import {
  CommandExecutor,
  createUnsubscribeToken,
  drainCustomer,
  silentLogger,
  type DrainDependencies,
} from '../../engine/index.js';
import { keysSharingTag } from '../../engine/redis/scan-keys.js';
import { customerKeys } from '../../engine/store/customer-keys.js';
import { notify } from '../fixtures/journeys/notify.js';
import { httpHarness, UNSUBSCRIBE_SECRET, type HttpHarness } from '../support/http.js';
import { eventually } from '../support/redis.js';

/** Where a browser showing `html` at `pageUrl` posts its form: the action, resolved against the page. */
function formTarget(html: string, pageUrl: string): string {
  const action = /<form method="post" action="([^"]*)">/.exec(html)?.[1];
  expect(action).toBeDefined();
  return new URL(action!.replaceAll('&quot;', '"').replaceAll('&amp;', '&'), pageUrl).href;
}

describe('one-click unsubscribe', () => {
  let h: HttpHarness;
  beforeEach(async () => {
    h = await httpHarness({ journeys: [notify] });
  });
  afterEach(() => h.close());

  const tokenFor = (customerId: string, exp = h.clock.now() + 86_400_000) =>
    createUnsubscribeToken(UNSUBSCRIBE_SECRET, { customerId, topic: 'marketing', exp });

  it('unsubscribes on a cookie-less POST, and later email sends do not go out', async () => {
    await h.engine.identify({ userId: 'u1', traits: { email: 'u1@example.com' } });
    // The route suppresses the address the profile holds, so the identify must have been applied.
    await eventually(async () => (await h.engine.customer('u1')).profile.email !== undefined);
    const token = tokenFor('u1');
    const page = await h.app.inject(`/v1/unsubscribe?token=${encodeURIComponent(token)}`);
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain('<form method="post"');
    expect(await h.engine.consent.store.all('u1')).toEqual([]);

    const res = await h.app.inject({
      method: 'POST',
      url: `/v1/unsubscribe?token=${encodeURIComponent(token)}`,
      payload: 'List-Unsubscribe=One-Click',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ unsubscribed: true, topic: 'marketing' });
    expect(await h.engine.consent.store.all('u1')).toEqual([
      {
        channel: 'email',
        topic: 'marketing',
        state: 'denied',
        at: h.clock.now(),
        source: 'one-click unsubscribe',
      },
    ]);
    expect(await h.engine.suppressions.check({ kind: 'email', value: 'U1@example.com' })).toEqual([
      { reason: 'unsubscribe', at: h.clock.now(), source: 'one-click unsubscribe' },
    ]);

    await h.engine.track({ userId: 'u1', event: 'Notify' });
    const messages = await eventually(async () => {
      const c = await h.engine.customer('u1');
      return c.messages.find((m) => m.status === 'skipped') ? c.messages : undefined;
    });
    expect(messages.some((m) => m.status === 'sent')).toBe(false);
    expect(messages.find((m) => m.status === 'rerouted')).toMatchObject({
      channel: 'email',
      rule: 'suppression',
      reason: expect.stringMatching(/suppressed \(unsubscribe at /),
    });
  });

  /** Unsubscribes the customer with their one-click link, once their email address is stored. */
  async function unsubscribe(userId: string, traits: Record<string, unknown> = {}) {
    await h.engine.identify({ userId, traits: { email: `${userId}@example.com`, ...traits } });
    await eventually(async () => (await h.engine.customer(userId)).profile.email !== undefined);
    const unsubscribed = await h.app.inject({
      method: 'POST',
      url: `/v1/unsubscribe?token=${encodeURIComponent(tokenFor(userId))}`,
      payload: 'List-Unsubscribe=One-Click',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    expect(unsubscribed.statusCode).toBe(200);
  }

  /** How the customer's next Notify email ends: sent, or rerouted and skipped as suppressed. */
  async function notified(userId: string) {
    await h.engine.track({ userId, event: 'Notify' });
    return eventually(async () =>
      (await h.engine.customer(userId)).messages.find((m) => ['sent', 'skipped'].includes(String(m.status))),
    );
  }

  it('sends marketing email again once the customer subscribes again through the consent API', async () => {
    await unsubscribe('u4');
    // A week later, the customer ticks the newsletter box in the shop's preference centre.
    h.clock.advance('7d');
    const granted = await h.app.inject({
      method: 'POST',
      url: '/v1/customers/u4/consent',
      headers: h.auth,
      payload: { channel: 'email', topic: 'marketing', granted: true, source: 'preference centre' },
    });
    expect(granted.statusCode).toBe(200);
    expect(granted.json()).toMatchObject({ record: { state: 'granted' } });
    // Their answer, given last, lifts the unsubscribe of the address they have.
    expect(await h.engine.suppressions.check({ kind: 'email', value: 'u4@example.com' })).toEqual([]);
    expect(await notified('u4')).toMatchObject({ status: 'sent', channel: 'email' });
  });

  it('keeps the unsubscribe over a consent trait an identify sends again, and over a grant dated before it', async () => {
    // The app sent the grant once, as a trait; its library sends the traits it remembers again.
    await unsubscribe('u5', { consent: { email: { marketing: true } } });
    h.clock.advance('1d');
    await h.engine.identify({ userId: 'u5', traits: { consent: { email: { marketing: true } } } });
    expect(await h.engine.suppressions.check({ kind: 'email', value: 'u5@example.com' })).toHaveLength(1);
    expect(await notified('u5')).toMatchObject({ status: 'skipped' });
    expect((await h.engine.customer('u5')).messages).toContainEqual(
      expect.objectContaining({
        channel: 'email',
        status: 'rerouted',
        reason: expect.stringMatching(/suppressed \(unsubscribe at /),
      }),
    );
    // Nor does the consent record take the trait's grant: a later address is not written to either.
    expect(await h.engine.consent.store.get('u5', 'email', 'marketing')).toMatchObject({
      state: 'denied',
      source: 'one-click unsubscribe',
    });
    await h.engine.identify({
      userId: 'u5',
      traits: { email: 'u5-new@example.com', consent: { email: { marketing: true } } },
    });
    await eventually(
      async () => (await h.engine.customer('u5')).profile.email === 'u5-new@example.com' || undefined,
    );
    expect(await h.engine.consent.store.get('u5', 'email', 'marketing')).toMatchObject({ state: 'denied' });
    // A CRM replaying the grant as it was given, before the unsubscribe, lifts nothing either.
    const replayed = await h.app.inject({
      method: 'POST',
      url: '/v1/customers/u5/consent',
      headers: h.auth,
      payload: {
        channel: 'email',
        topic: 'marketing',
        granted: true,
        source: 'crm',
        timestamp: new Date(h.clock.now() - 3 * 86_400_000).toISOString(),
      },
    });
    expect(replayed.statusCode).toBe(200);
    expect(await h.engine.suppressions.check({ kind: 'email', value: 'u5@example.com' })).toHaveLength(1);
  });
  it("answers an erased customer's old link as unsubscribed, and writes nothing back under their id", async () => {
    await h.engine.identify({ userId: 'u3', traits: { email: 'u3@example.com' } });
    await eventually(async () => (await h.engine.customer('u3')).profile.email !== undefined);
    await h.engine.erase('u3');

    const res = await h.app.inject({
      method: 'POST',
      url: `/v1/unsubscribe?token=${encodeURIComponent(tokenFor('u3'))}`,
      payload: 'List-Unsubscribe=One-Click',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ unsubscribed: true, topic: 'marketing' });
    // Neither a consent record nor an "Unsubscribed" event waiting to be applied.
    expect(await h.redis.keys(`${h.prefix}:c:*`)).toEqual([]);
    expect(await h.engine.consent.store.all('u3')).toEqual([]);
  });

  it('refuses a forged or expired token with 400', async () => {
    const forged = createUnsubscribeToken('another-secret-16chars', {
      customerId: 'u2',
      topic: 'marketing',
      exp: h.clock.now() + 1000,
    });
    for (const token of [forged, tokenFor('u2', h.clock.now() - 1), 'garbage']) {
      const res = await h.app.inject({
        method: 'POST',
        url: `/v1/unsubscribe?token=${encodeURIComponent(token)}`,
      });
      expect(res.statusCode).toBe(400);
      expect(res.json()).toMatchObject({ error: { code: 'CHORUS_UNSUBSCRIBE_TOKEN_INVALID' } });
    }
    expect(await h.redis.keys(`${h.prefix}:c:*`)).toEqual([]);
  });

  it('unsubscribes a customer with a very long id, whose link carries the id in the compact form', async () => {
    const userId = '顧'.repeat(256);
    await h.engine.identify({ userId, traits: { email: 'long@example.com' } });
    await eventually(async () => (await h.engine.customer(userId)).profile.email !== undefined);
    const token = tokenFor(userId);
    // Short enough for a List-Unsubscribe header line (998 characters) with the URL around it.
    expect(token.length).toBeLessThan(780);
    expect(token.split('.')).toHaveLength(3);
    const res = await h.app.inject({
      method: 'POST',
      url: `/v1/unsubscribe?token=${encodeURIComponent(token)}`,
      payload: 'List-Unsubscribe=One-Click',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    expect(res.json()).toEqual({ unsubscribed: true, topic: 'marketing' });
    expect(await h.engine.consent.store.all(userId)).toMatchObject([
      { channel: 'email', topic: 'marketing', state: 'denied' },
    ]);

    // Its customer id is signed with the rest: one changed character and the link is refused.
    const [id = '', ...rest] = token.split('.');
    const other = Buffer.from('顧'.repeat(255) + '客', 'utf16le').toString('base64url');
    expect(other).not.toBe(id);
    const forged = await h.app.inject({
      method: 'POST',
      url: `/v1/unsubscribe?token=${encodeURIComponent([other, ...rest].join('.'))}`,
    });
    expect(forged.statusCode).toBe(400);
  });

  it('shows a person whose link is refused a page saying why, not JSON', async () => {
    const expired = tokenFor('u2', h.clock.now() - 1);
    for (const url of [`/v1/unsubscribe?token=${expired}`, '/v1/consent/confirm?token=garbage']) {
      const res = await h.app.inject({ url, headers: { accept: 'text/html,application/xhtml+xml' } });
      expect(res.statusCode).toBe(400);
      expect(res.headers['content-type']).toContain('text/html');
      expect(res.body).toContain('This link is not valid');
      expect(res.body).toMatch(/CHORUS_(UNSUBSCRIBE|CONSENT)_TOKEN_INVALID/);
    }
  });

  it('keeps the link pages out of caches and their token-bearing URL out of Referer headers', async () => {
    await h.close();
    h = await httpHarness({ journeys: [notify], workers: false, doubleOptIn: true });
    const asked = await h.app.inject({
      method: 'POST',
      url: '/v1/customers/u6/consent',
      headers: h.auth,
      payload: { channel: 'email', topic: 'marketing', granted: true },
    });
    const confirmPath = (asked.json().confirmUrl as string).slice('https://chorus.test'.length);
    const pages = [
      `/v1/unsubscribe?token=${encodeURIComponent(tokenFor('u6'))}`,
      confirmPath,
      `/v1/unsubscribe?token=${encodeURIComponent(tokenFor('u6', h.clock.now() - 1))}`,
      '/v1/consent/confirm',
    ];
    for (const url of pages) {
      const page = await h.app.inject({ url, headers: { accept: 'text/html' } });
      expect(page.headers['content-type'], url).toContain('text/html');
      expect(page.headers['cache-control'], url).toBe('no-store');
      expect(page.headers['referrer-policy'], url).toBe('no-referrer');
    }
  });

  it('unsubscribes from its page on a phone without JavaScript, asking the server for nothing else', async () => {
    const url = await h.app.listen({ port: 0, host: '127.0.0.1' });
    const browser = await chromium.launch({
      executablePath: '/usr/bin/chromium',
      headless: true,
      args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--no-first-run'],
    });
    try {
      const context = await browser.newContext({ ...devices['Pixel 7'], javaScriptEnabled: false });
      const page = await context.newPage();
      // A browser asks for /favicon.ico unless the page names an icon: answered 404, that is an
      // error in the console, and behind a proxy under a path, a request that leaves the path.
      const asked: string[] = [];
      const errors: string[] = [];
      page.on('request', (request) => asked.push(`${request.method()} ${new URL(request.url()).pathname}`));
      page.on('console', (message) => {
        if (message.type() === 'error') errors.push(message.text());
      });
      await page.goto(`${url}/v1/unsubscribe?token=${encodeURIComponent(tokenFor('u7'))}`);
      await page.getByRole('button', { name: 'Unsubscribe' }).click();
      await page.getByRole('heading', { name: 'Unsubscribed' }).waitFor();
      expect(asked).toEqual(['GET /v1/unsubscribe', 'POST /v1/unsubscribe']);
      expect(errors).toEqual([]);
    } finally {
      await browser.close();
    }
  }, 30_000);

  it('shows a person whose link lost its token a page saying so, and a client JSON', async () => {
    for (const url of ['/v1/unsubscribe', '/v1/unsubscribe?token=', '/v1/consent/confirm']) {
      const page = await h.app.inject({ url, headers: { accept: 'text/html,application/xhtml+xml' } });
      expect(page.statusCode).toBe(400);
      expect(page.headers['content-type']).toContain('text/html');
      expect(page.body).toContain('This link is incomplete');
      const json = await h.app.inject({ method: 'POST', url });
      expect(json.statusCode).toBe(400);
      expect(json.json()).toMatchObject({
        error: { code: 'CHORUS_INVALID_INPUT', issues: [{ field: 'querystring.token' }] },
      });
    }
  });

  it('posts its confirm button back to the link, also when PUBLIC_URL puts the API under a path', async () => {
    // Behind a proxy that serves the API at https://mail.example/chorus/…, as PUBLIC_URL says.
    const path = `/v1/unsubscribe?token=${encodeURIComponent(tokenFor('u5'))}`;
    const link = `https://mail.example/chorus${path}`;
    const page = await h.app.inject({ url: path, headers: { accept: 'text/html' } });
    expect(formTarget(page.body, link)).toBe(link);

    await h.close();
    h = await httpHarness({ journeys: [notify], workers: false, doubleOptIn: true });
    const asked = await h.app.inject({
      method: 'POST',
      url: '/v1/customers/u5/consent',
      headers: h.auth,
      payload: { channel: 'email', topic: 'marketing', granted: true },
    });
    const confirmPath = (asked.json().confirmUrl as string).slice('https://chorus.test'.length);
    const confirmPage = await h.app.inject({ url: confirmPath, headers: { accept: 'text/html' } });
    const confirmLink = `https://mail.example/chorus${confirmPath}`;
    expect(formTarget(confirmPage.body, confirmLink)).toBe(confirmLink);
  });

  it('takes the one-click POST in each form mail receivers send it, multipart/form-data first', async () => {
    const boundary = '---FormBoundaryjWmhtjORrn';
    // RFC 8058: the body SHOULD be multipart/form-data and MAY be form-encoded; it is never needed.
    const bodies: Array<[string | undefined, string]> = [
      [
        `multipart/form-data; boundary=${boundary}`,
        `--${boundary}\r\nContent-Disposition: form-data; name="List-Unsubscribe"\r\n\r\nOne-Click\r\n--${boundary}--\r\n`,
      ],
      ['application/x-www-form-urlencoded', 'List-Unsubscribe=One-Click'],
      [undefined, 'List-Unsubscribe=One-Click'],
    ];
    for (const index of bodies.keys()) await h.engine.identify({ userId: `m${index}`, traits: {} });
    for (const index of bodies.keys())
      await eventually(async () => (await h.engine.customer(`m${index}`)).rev > 0);
    for (const [index, [type, payload]] of bodies.entries()) {
      const res = await h.app.inject({
        method: 'POST',
        url: `/v1/unsubscribe?token=${encodeURIComponent(tokenFor(`m${index}`))}`,
        payload,
        headers: type ? { 'content-type': type } : {},
      });
      expect(res.statusCode, type).toBe(200);
      expect(await h.engine.consent.store.get(`m${index}`, 'email', 'marketing'), type).toMatchObject({
        state: 'denied',
      });
    }
  });

  it("confirms a double opt-in from the confirmation page's own form, as a browser submits it", async () => {
    await h.close();
    h = await httpHarness({ journeys: [notify], workers: false, doubleOptIn: true });
    const asked = await h.app.inject({
      method: 'POST',
      url: '/v1/customers/d1/consent',
      headers: h.auth,
      payload: { channel: 'email', topic: 'marketing', granted: true },
    });
    const path = (asked.json().confirmUrl as string).slice('https://chorus.test'.length);
    const page = await h.app.inject({ url: path, headers: { accept: 'text/html' } });
    // The browser resolves the form's action against the page, and posts to the link itself.
    expect(formTarget(page.body, `https://chorus.test${path}`)).toBe(`https://chorus.test${path}`);
    // A form with no named field: the browser posts an empty form-encoded body.
    const res = await h.app.inject({
      method: 'POST',
      url: path,
      payload: '',
      headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'text/html' },
    });
    expect(res.statusCode).toBe(200);
    expect(res.body).toContain('your subscription is confirmed');
    expect(await h.engine.consent.store.get('d1', 'email', 'marketing')).toMatchObject({ state: 'granted' });
  });
});

describe('a one-click unsubscribe that meets the erasure of its customer', () => {
  let h: HttpHarness;
  beforeAll(async () => {
    h = await httpHarness({ journeys: [notify], workers: false });
  });
  afterAll(() => h.close());

  type SendCommand = (command: { name: string }, stream?: unknown) => Promise<unknown>;

  it('writes nothing back under their id, whichever of its steps the erasure ends between', async () => {
    // The routes over this engine, whose connection the test watches. Others' commands share it
    // (the engine's queues write their meta once the connection is ready, which on a slow Cluster
    // start can be during the first request): only those the route's handler issues, and what it
    // starts (the event's drain job), run in `routeCommands`, and only they are counted.
    const routeCommands = new AsyncLocalStorage<true>();
    const app = Fastify();
    app.setValidatorCompiler(validatorCompiler);
    app.setSerializerCompiler(serializerCompiler);
    app.addHook('onRoute', (route) => {
      const handler = route.handler;
      route.handler = function (request, reply) {
        return routeCommands.run(true, () => handler.call(this, request, reply));
      };
    });
    await app.register(unsubscribeRoutes, {
      engine: h.engine,
      secrets: [UNSUBSCRIBE_SECRET],
      clock: h.clock,
    });
    const drainDeps: DrainDependencies = {
      store: h.engine.store,
      catalog: h.engine.catalog,
      executor: new CommandExecutor({
        queues: h.engine.queues,
        jobIndex: h.engine.jobIndex,
        timerWheel: h.engine.timerWheel,
        clock: h.clock,
        timeScale: 1,
      }),
      clock: h.clock,
      logger: silentLogger,
    };
    const redis = h.engine.store.redis as unknown as { sendCommand: SendCommand };
    const sendCommand = redis.sendCommand.bind(redis);
    try {
      // The erasure runs, start to end, right after the route's n-th Redis command is answered,
      // also when the answer is an error: a NOSCRIPT, from a Redis (or the Cluster node of the
      // customer's slot) that has not run the script yet, is followed by the script itself.
      const erasedDuring: number[] = [];
      for (let n = 1; n <= 8; n++) {
        const id = `late-${n}`;
        await h.redis.hset(
          customerKeys(h.prefix, id).state,
          'profile',
          JSON.stringify({ email: `${id}@example.com` }),
        );
        let issued = 0;
        let erased = false;
        redis.sendCommand = (command, stream) => {
          const answer = sendCommand(command, stream);
          if (erased || !routeCommands.getStore() || ++issued !== n) return answer;
          erased = true;
          return answer.then(
            async (value) => {
              await h.engine.erase(id);
              return value;
            },
            async (error: unknown) => {
              await h.engine.erase(id);
              throw error;
            },
          );
        };
        const res = await app.inject({
          method: 'POST',
          url: `/v1/unsubscribe?token=${encodeURIComponent(createUnsubscribeToken(UNSUBSCRIBE_SECRET, { customerId: id, topic: 'marketing', exp: h.clock.now() + 86_400_000 }))}`,
          payload: 'List-Unsubscribe=One-Click',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
        });
        redis.sendCommand = sendCommand;
        expect(res.statusCode).toBe(200);
        if (erased) erasedDuring.push(n);
        await h.engine.settleIngest();
        // Erased after the unsubscribe, if not during it: either way nothing of theirs may be left
        // but the markers of event ids, which expire.
        if (!erased) await h.engine.erase(id);
        // A drain job its event asked for before the erasure ended finds nobody to apply it to.
        for (const job of await h.engine.queues.journeys.getJobs(['waiting']))
          await drainCustomer(drainDeps, (job.data as { customerId: string }).customerId, job.id!);
        await h.engine.queues.journeys.drain();
        const left = await keysSharingTag(h.redis, customerKeys(h.prefix, id).state);
        expect(
          left.filter((key) => !key.includes(':seen:')),
          `erased after command ${n}`,
        ).toEqual([]);
      }
      // Each of the route's steps met the erasure (its writes, the event's push and drain job).
      expect(erasedDuring.length).toBeGreaterThanOrEqual(4);
    } finally {
      redis.sendCommand = sendCommand;
      await app.close();
    }
  });
});
