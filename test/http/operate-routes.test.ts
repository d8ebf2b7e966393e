import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { resolveRedis, type ResolvedRedis } from '../../engine/index.js';
import { onboarding } from '../fixtures/journeys/onboarding.js';
import { DASHBOARD, httpHarness, type HttpHarness } from '../support/http.js';

const basic = (user: string, password: string) =>
  `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

describe('operating the engine over HTTP', () => {
  let h: HttpHarness;
  afterEach(() => h.close());

  it('answers /healthz, /readyz, /metrics and /docs without an API key', async () => {
    h = await httpHarness({ journeys: [onboarding], workers: false });
    expect((await h.app.inject('/healthz')).json()).toEqual({ status: 'ok' });
    expect((await h.app.inject('/readyz')).json()).toEqual({ status: 'ok' });
    await h.app.inject({
      method: 'POST',
      url: '/v1/track',
      payload: { userId: 'm', event: 'Signed Up' },
      headers: h.auth,
    });
    // The track answered once stored; its drain job is added just after.
    await h.settleIngest();
    const metrics = await h.app.inject('/metrics');
    expect(metrics.statusCode).toBe(200);
    expect(metrics.body).toMatch(
      /chorus_http_requests_total\{method="POST",route="\/v1\/track",status="200"\} 1/,
    );
    expect(metrics.body).toMatch(/chorus_queue_jobs\{queue="journeys",state="waiting"\} 1/);
    expect(metrics.body).toMatch(/chorus_queue_jobs\{queue="deliveries-email",state="delayed"\} 0/);
    expect(metrics.body).toMatch(/chorus_timers_waiting 0/);
    expect(metrics.body).toMatch(/chorus_drain_adds_given_up_total 0/);
    const docs = await h.app.inject('/docs/json');
    expect(docs.statusCode).toBe(200);
    const spec = docs.json<{
      openapi: string;
      paths: Record<string, Record<string, { requestBody?: unknown }>>;
    }>();
    expect(spec.openapi).toMatch(/^3\./);
    expect(Object.keys(spec.paths)).toEqual(
      expect.arrayContaining([
        '/v1/track',
        '/v1/identify',
        '/v1/batch',
        '/v1/customers/{userId}',
        '/v1/journeys',
      ]),
    );
    expect(JSON.stringify(spec.paths['/v1/track']?.post?.requestBody)).toContain('userId');
    const reference = await h.app.inject('/docs');
    expect(reference.statusCode).toBeLessThan(400);
    // Its tab is named for what it documents, among the dashboard's tabs.
    expect(reference.body).toMatch(/<title>Chorus API reference<\/title>/);
  });

  it('documents the API key on exactly the routes that refuse a request without one', async () => {
    h = await httpHarness({ journeys: [onboarding], workers: false });
    const spec = (await h.app.inject('/docs/json')).json<{
      security?: unknown[];
      paths: Record<string, Record<string, { security?: unknown[] }>>;
    }>();
    const mismatches: string[] = [];
    for (const [path, operations] of Object.entries(spec.paths))
      for (const [method, operation] of Object.entries(operations)) {
        const documented = (operation.security ?? spec.security ?? []).length > 0;
        const url = path.replace(/\{[^}]+\}/g, 'x');
        const res = await h.app.inject({ method: method.toUpperCase() as 'GET', url });
        const refused =
          res.statusCode === 401 &&
          res.json<{ error: { code: string } }>().error.code === 'CHORUS_UNAUTHORIZED';
        if (documented !== refused)
          mismatches.push(
            `${method.toUpperCase()} ${path}: documented ${documented ? 'with' : 'without'} a key`,
          );
      }
    expect(mismatches).toEqual([]);
  });

  it('says in the reference’s description which /v1 routes take no API key', async () => {
    h = await httpHarness({ journeys: [onboarding], workers: false });
    const spec = (await h.app.inject('/docs/json')).json<{
      info: { description: string };
      paths: Record<string, Record<string, { security?: unknown[] }>>;
    }>();
    const keyless = Object.entries(spec.paths)
      .filter(
        ([path, operations]) =>
          path.startsWith('/v1/') && Object.values(operations).every((o) => o.security?.length === 0),
      )
      .map(([path]) => path);
    expect(keyless.length).toBeGreaterThan(0);
    for (const path of keyless) expect(spec.info.description).toContain(`\`${path}\``);
  });

  it('documents the error answers of every /v1 route in the shape they are given', async () => {
    h = await httpHarness({ journeys: [onboarding], workers: false });
    interface Answer {
      content?: {
        'application/json'?: {
          schema: { properties: { error: { properties: object; required: string[] } } };
        };
      };
    }
    const spec = (await h.app.inject('/docs/json')).json<{
      paths: Record<string, Record<string, { responses: Record<string, Answer> }>>;
    }>();
    const undocumented: string[] = [];
    for (const [path, operations] of Object.entries(spec.paths))
      for (const [method, operation] of Object.entries(operations)) {
        const pages = path === '/v1/unsubscribe' || path === '/v1/consent/confirm';
        if (!path.startsWith('/v1/') || pages) continue;
        for (const status of ['4XX', '5XX'])
          if (!operation.responses[status]?.content?.['application/json'])
            undocumented.push(`${method.toUpperCase()} ${path} ${status}`);
      }
    expect(undocumented).toEqual([]);
    // A refusal has the documented fields, and those it must have.
    const documented =
      spec.paths['/v1/customers/{userId}']!.get!.responses['4XX']!.content!['application/json']!.schema
        .properties.error;
    const refused = await h.app.inject({ url: '/v1/customers/nobody', headers: h.auth });
    const error = refused.json<{ error: Record<string, unknown> }>().error;
    expect(Object.keys(documented.properties)).toEqual(expect.arrayContaining(Object.keys(error)));
    expect(Object.keys(error)).toEqual(expect.arrayContaining(documented.required));
  });

  it('documents each query parameter with a schema its accepted values match', async () => {
    h = await httpHarness({ journeys: [onboarding], workers: false });
    const spec = (await h.app.inject('/docs/json')).json<{
      paths: Record<string, Record<string, { parameters?: Array<{ name: string; schema: Schema }> }>>;
    }>();
    interface Schema {
      anyOf?: Schema[];
      oneOf?: Schema[];
      pattern?: string;
      type?: string;
    }
    // An empty union matches no value: a client checking against the document refuses them all.
    const emptyUnions = JSON.stringify(spec).match(/"(anyOf|oneOf)":\[\]/g);
    expect(emptyUnions).toBeNull();
    const parameters = spec.paths['/v1/journeys/{id}/report']?.get?.parameters ?? [];
    const matches = (schema: Schema | undefined, value: string): boolean =>
      schema !== undefined &&
      ((schema.anyOf ?? schema.oneOf)?.some((branch) => matches(branch, value)) ??
        (schema.type === 'string' && new RegExp(schema.pattern ?? '').test(value)));
    for (const name of ['from', 'to'])
      for (const value of ['2026-11-01', '2026-11-01T00:00:00Z', '1793491200000']) {
        const res = await h.app.inject({
          url: `/v1/journeys/onboarding/report?${name}=${value}`,
          headers: h.auth,
        });
        expect(res.statusCode, `${name}=${value}`).toBe(200);
        expect(matches(parameters.find((p) => p.name === name)?.schema, value), `${name}=${value}`).toBe(
          true,
        );
      }
  });

  it('shows every queue in the dashboard behind basic auth, read-only by default', async () => {
    h = await httpHarness({ journeys: [onboarding], workers: false });
    const anonymous = await h.app.inject('/admin/queues');
    expect(anonymous.statusCode).toBe(401);
    expect(anonymous.headers['www-authenticate']).toMatch(/^Basic/);
    expect(
      (
        await h.app.inject({
          url: '/admin/queues',
          headers: { authorization: basic(DASHBOARD.user, 'wrong') },
        })
      ).statusCode,
    ).toBe(401);
    const auth = { authorization: basic(DASHBOARD.user, DASHBOARD.password) };
    const page = await h.app.inject({ url: '/admin/queues', headers: auth });
    expect(page.statusCode).toBe(200);
    expect(page.headers['content-type']).toMatch(/html/);
    // The page's own scripts and styles load under the same auth, so the board renders.
    const assets = [...page.body.matchAll(/(?:src|href)="(static\/[^"]+\.(?:js|css))"/g)].map((m) => m[1]!);
    expect(assets.length).toBeGreaterThan(2);
    for (const asset of assets) {
      const res = await h.app.inject({ url: `/admin/queues/${asset}`, headers: auth });
      expect(res.statusCode, asset).toBe(200);
    }
    expect((await h.app.inject(`/admin/queues/${assets[0]!}`)).statusCode).toBe(401);
    const api = await h.app.inject({ url: '/admin/queues/api/queues', headers: auth });
    expect(api.statusCode).toBe(200);
    const queues = api.json<{ queues: Array<{ name: string; readOnlyMode: boolean }> }>().queues;
    expect(queues.map((q) => q.name).sort()).toEqual(
      [
        'deliveries-email',
        'deliveries-in-app',
        'deliveries-push',
        'deliveries-sms',
        'deliveries-webhook',
        'journeys',
      ].sort(),
    );
    expect(queues.every((q) => q.readOnlyMode)).toBe(true);
    const clean = await h.app.inject({
      method: 'PUT',
      url: '/admin/queues/api/queues/journeys/clean/completed',
      headers: auth,
    });
    expect(clean.statusCode).toBeGreaterThanOrEqual(400);
  });

  it('answers a browser with pages: the sign-in refusal, and /admin leads to the queues', async () => {
    h = await httpHarness({ journeys: [onboarding], workers: false });
    const browser = { accept: 'text/html,application/xhtml+xml' };
    // Cancelling the sign-in dialog showed the JSON refusal as text.
    const cancelled = await h.app.inject({ url: '/admin/queues', headers: browser });
    expect(cancelled.statusCode).toBe(401);
    expect(cancelled.headers['www-authenticate']).toMatch(/^Basic/);
    expect(cancelled.headers['content-type']).toMatch(/^text\/html/);
    expect(cancelled.body).toContain('<h1>Sign in to the Chorus dashboard</h1>');
    expect(cancelled.body).toContain('DASHBOARD_USER and DASHBOARD_PASSWORD');
    // A script still gets JSON.
    expect((await h.app.inject('/admin/queues')).json()).toMatchObject({
      error: { code: 'CHORUS_UNAUTHORIZED' },
    });
    // `/admin` was a 404: it is the queues' page, behind the same auth.
    expect((await h.app.inject({ url: '/admin', headers: browser })).statusCode).toBe(401);
    const auth = { authorization: basic(DASHBOARD.user, DASHBOARD.password) };
    for (const url of ['/admin', '/admin/']) {
      const res = await h.app.inject({ url, headers: { ...auth, ...browser } });
      expect(res.statusCode, url).toBe(302);
      expect(res.headers.location, url).toBe('/admin/queues');
    }
  });

  it('lets the dashboard change jobs only when DASHBOARD_WRITE is on', async () => {
    h = await httpHarness({ journeys: [onboarding], workers: false, dashboardWrite: true });
    const auth = { authorization: basic(DASHBOARD.user, DASHBOARD.password) };
    const api = await h.app.inject({ url: '/admin/queues/api/queues', headers: auth });
    expect(
      api.json<{ queues: Array<{ readOnlyMode: boolean }> }>().queues.every((q) => !q.readOnlyMode),
    ).toBe(true);
    const clean = await h.app.inject({
      method: 'PUT',
      url: '/admin/queues/api/queues/journeys/clean/completed',
      headers: auth,
    });
    expect(clean.statusCode).toBe(200);
  });

  it.each([
    ['PUT', 'journeys/obliterate'],
    ['PUT', 'journeys/empty'],
    ['PUT', 'journeys/pause'],
    ['PUT', 'pause'],
    ['POST', 'journeys/add'],
    ['PATCH', 'journeys/some-job/update-data'],
    ['PATCH', 'journeys/some-job/delay'],
    ['PUT', 'journeys/job-schedulers/some-scheduler/remove'],
    ['PUT', 'journeys/concurrency'],
  ])(
    'refuses the dashboard %s %s even with DASHBOARD_WRITE on, saying what it allows',
    async (method, path) => {
      h = await httpHarness({ journeys: [onboarding], workers: false, dashboardWrite: true });
      const auth = { authorization: basic(DASHBOARD.user, DASHBOARD.password) };
      await h.engine.track({ userId: 'ada', event: 'Signed Up' });
      const before = await h.engine.queues.journeys.getJobCounts();
      const res = await h.app.inject({
        method: method as 'PUT',
        url: `/admin/queues/api/queues/${path}`,
        headers: auth,
        payload: {},
      });
      expect(res.statusCode).toBe(403);
      expect(res.json()).toMatchObject({
        error: {
          code: 'CHORUS_DASHBOARD_ACTION_REFUSED',
          message: expect.stringContaining('retries, promotes and cleans jobs only'),
        },
      });
      expect(await h.engine.queues.journeys.getJobCounts()).toEqual(before);
      expect(await h.engine.queues.journeys.isPaused()).toBe(false);
      // Still asked for the credentials first.
      expect(
        (await h.app.inject({ method: method as 'PUT', url: `/admin/queues/api/queues/${path}` })).statusCode,
      ).toBe(401);
    },
  );

  it('lets the dashboard retry and promote with DASHBOARD_WRITE on', async () => {
    h = await httpHarness({ journeys: [onboarding], workers: false, dashboardWrite: true });
    const auth = { authorization: basic(DASHBOARD.user, DASHBOARD.password) };
    for (const path of ['journeys/retry/failed', 'journeys/promote']) {
      const res = await h.app.inject({
        method: 'PUT',
        url: `/admin/queues/api/queues/${path}`,
        headers: auth,
      });
      expect(res.statusCode, path).toBe(200);
    }
  });

  it('limits requests per API key', async () => {
    h = await httpHarness({
      journeys: [onboarding],
      workers: false,
      rateLimit: { max: 3, windowMs: 60_000 },
    });
    const codes: number[] = [];
    for (let i = 0; i < 4; i++)
      codes.push((await h.app.inject({ url: '/v1/journeys', headers: h.auth })).statusCode);
    expect(codes).toEqual([200, 200, 200, 429]);
  });

  describe('on a Redis of its own', () => {
    let privateRedis: ResolvedRedis;
    beforeAll(async () => {
      privateRedis = await resolveRedis({ defaultUrl: 'redis://127.0.0.1:1' });
    });
    afterAll(() => privateRedis.stop());

    it('is not ready while Redis may evict keys', async () => {
      h = await httpHarness({ journeys: [onboarding], workers: false, apiRedisUrl: privateRedis.url });
      const admin = new Redis(privateRedis.url);
      await admin.config('SET', 'maxmemory-policy', 'allkeys-lru');
      const res = await h.app.inject('/readyz');
      expect(res.statusCode).toBe(503);
      expect(res.json<{ reason: string }>().reason).toMatch(/allkeys-lru.*noeviction/);
      await admin.config('SET', 'maxmemory-policy', 'noeviction');
      expect((await h.app.inject('/readyz')).statusCode).toBe(200);
      admin.disconnect();
    });

    it('is not ready while Redis is a read-only replica, as a primary demoted by a failover is', async () => {
      h = await httpHarness({ journeys: [onboarding], workers: false, apiRedisUrl: privateRedis.url });
      const admin = new Redis(privateRedis.url);
      try {
        // A replica of a primary that is not there: it answers, and refuses every write READONLY.
        await admin.replicaof('127.0.0.1', '1');
        const res = await h.app.inject('/readyz');
        // It used to answer 200 while every event it took was refused.
        expect(res.statusCode).toBe(503);
        expect(res.json<{ reason: string }>().reason).toBe(
          'Redis is a read-only replica of 127.0.0.1:1, and the engine writes to Redis. To fix: point REDIS_URL at the primary.',
        );
      } finally {
        await admin.replicaof('NO', 'ONE');
        admin.disconnect();
      }
      expect((await h.app.inject('/readyz')).statusCode).toBe(200);
    });

    it('answers 503 at once while Redis is away', async () => {
      h = await httpHarness({ journeys: [onboarding], workers: false, apiRedisUrl: privateRedis.url });
      await privateRedis.stop();
      const started = Date.now();
      const res = await h.app.inject({
        method: 'POST',
        url: '/v1/track',
        payload: { userId: 'z', event: 'Signed Up' },
        headers: h.auth,
      });
      expect(res.statusCode).toBe(503);
      expect(res.headers['retry-after']).toBe('1');
      expect(res.json()).toMatchObject({ error: { code: 'CHORUS_UNAVAILABLE' } });
      expect(Date.now() - started).toBeLessThan(1000);
      expect((await h.app.inject('/readyz')).statusCode).toBe(503);
      expect((await h.app.inject('/healthz')).statusCode).toBe(200);
    });

    it('asks for the dashboard credentials first, and answers 503 to the dashboard only past them, while Redis is away', async () => {
      privateRedis = await resolveRedis({ defaultUrl: 'redis://127.0.0.1:1' });
      h = await httpHarness({ journeys: [onboarding], workers: false, apiRedisUrl: privateRedis.url });
      await privateRedis.stop();
      const auth = { authorization: basic(DASHBOARD.user, DASHBOARD.password) };
      for (const url of ['/admin/queues', '/admin/queues/api/queues', '/admin/journeys/onboarding']) {
        const anonymous = await h.app.inject(url);
        expect(anonymous.statusCode, url).toBe(401);
        expect(anonymous.headers['www-authenticate'], url).toMatch(/^Basic/);
        const away = await h.app.inject({ url, headers: auth });
        expect(away.statusCode, url).toBe(503);
        expect(away.headers['retry-after'], url).toBe('1');
        // In the API's shape, not as an internal error of bull-board's.
        expect(away.json(), url).toMatchObject({ error: { code: 'CHORUS_UNAVAILABLE' } });
      }
      // A person in a browser is told to try again in a page, not shown the JSON.
      const page = await h.app.inject({
        url: '/admin/journeys/onboarding',
        headers: { ...auth, accept: 'text/html' },
      });
      expect(page.statusCode).toBe(503);
      expect(page.headers['retry-after']).toBe('1');
      expect(page.body).toContain('<h1>Please try again in a moment</h1>');
    });

    it('still answers /metrics while Redis is away, with the figures of its own', async () => {
      privateRedis = await resolveRedis({ defaultUrl: 'redis://127.0.0.1:1' });
      h = await httpHarness({ journeys: [onboarding], workers: false, apiRedisUrl: privateRedis.url });
      expect((await h.app.inject('/metrics')).body).toMatch(/chorus_queue_jobs\{queue="journeys"/);
      await privateRedis.stop();
      const refused = await h.app.inject({
        method: 'POST',
        url: '/v1/track',
        payload: { userId: 'z', event: 'Signed Up' },
        headers: h.auth,
      });
      expect(refused.statusCode).toBe(503);

      const metrics = await h.app.inject('/metrics');
      expect(metrics.statusCode).toBe(200);
      expect(metrics.body).toMatch(
        /chorus_http_requests_total\{method="POST",route="\/v1\/track",status="503"\} 1/,
      );
      expect(metrics.body).toMatch(/chorus_drain_adds_given_up_total 0/);
      // What is read from Redis is left out, or unknown, not reported as zero.
      expect(metrics.body).not.toMatch(/chorus_queue_jobs\{/);
      expect(metrics.body).not.toMatch(/chorus_sends_total\{/);
      expect(metrics.body).toMatch(/chorus_timers_waiting nan$/im);
    });
  });
});
