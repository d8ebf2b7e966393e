import { createHash } from 'node:crypto';
import diagnostics from 'node:diagnostics_channel';
import type { FastifyInstance } from 'fastify';
import type fc from 'fast-check';
import { expect } from 'vitest';
import { z } from 'zod';
import { defineWebhookSource, generateWebhookSecret } from '../../engine/index.js';
import { comeback } from '../fixtures/journeys/comeback.js';
import { onboarding } from '../fixtures/journeys/onboarding.js';
import { DASHBOARD, httpHarness, type HttpHarness } from '../support/http.js';

/** Runs per property: enough to hit every branch of the hostile generators, small enough for CI. */
export const RUNS = Number(process.env.FUZZ_RUNS ?? 60);

/** A fixed seed unless FUZZ_SEED is set, so CI is repeatable; fast-check prints it on failure. */
export const fuzzParams = (numRuns = RUNS): fc.Parameters<unknown> => ({
  numRuns,
  seed: process.env.FUZZ_SEED === undefined ? 0x5eed : Number(process.env.FUZZ_SEED),
  endOnFailure: true,
});

export const WEBHOOK_SECRET = generateWebhookSecret();

export const shop = defineWebhookSource({
  id: 'shop',
  payload: z.looseObject({ customer: z.object({ id: z.string().min(1).max(256) }), total: z.number() }),
  toTrack: (p) => ({ userId: p.customer.id, event: 'Order Completed', properties: { ...p } }),
});

export interface Route {
  method: string;
  url: string;
}

export interface FuzzHarness extends HttpHarness {
  /** Every route the app registered, as `onRoute` saw it (HEAD routes included). */
  routes: Route[];
  basic: { authorization: string };
}

/**
 * The HTTP app as `httpHarness` builds it, without workers (so Redis changes only by a
 * request), and the list of its routes. The routes are collected through Fastify's
 * `fastify.initialization` diagnostics channel, which fires before any plugin registers, so
 * routes added by plugins (swagger, bull-board) are seen too.
 */
export async function fuzzHarness(): Promise<FuzzHarness> {
  const routes: Route[] = [];
  const onInit = (message: unknown) => {
    (message as { fastify: FastifyInstance }).fastify.addHook('onRoute', (route) => {
      for (const method of [route.method].flat()) routes.push({ method, url: route.url });
    });
  };
  diagnostics.subscribe('fastify.initialization', onInit);
  let h: HttpHarness;
  try {
    h = await httpHarness({
      journeys: [onboarding, comeback],
      workers: false,
      webhookSources: [shop],
      webhookSecrets: { shop: [WEBHOOK_SECRET] },
    });
  } finally {
    diagnostics.unsubscribe('fastify.initialization', onInit);
  }
  const basic = `Basic ${Buffer.from(`${DASHBOARD.user}:${DASHBOARD.password}`).toString('base64')}`;
  return { ...h, routes, basic: { authorization: basic } };
}

/**
 * What Redis holds under the harness's prefix: every key with a digest of its value. Rate-limit
 * counters are left out, as every `/v1` request moves them by design.
 */
export async function redisFingerprint(h: HttpHarness): Promise<Map<string, string>> {
  const keys: string[] = [];
  for (const pattern of [`${h.prefix}:*`, `{${h.prefix}}:*`]) {
    let cursor = '0';
    do {
      const [next, batch] = await h.redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
      cursor = next;
      keys.push(...batch.filter((key) => !key.startsWith(`${h.prefix}:rate:`)));
    } while (cursor !== '0');
  }
  const pipeline = h.redis.pipeline();
  for (const key of keys) pipeline.dumpBuffer(key);
  const dumps = (await pipeline.exec()) ?? [];
  return new Map(
    keys.map((key, i) => {
      const dump = dumps[i]?.[1];
      return [key, Buffer.isBuffer(dump) ? createHash('sha1').update(dump).digest('hex') : 'gone'];
    }),
  );
}

export function expectSameRedis(before: Map<string, string>, after: Map<string, string>, what: string): void {
  const changed = [...new Set([...before.keys(), ...after.keys()])].filter(
    (key) => before.get(key) !== after.get(key),
  );
  expect(changed, `Redis keys written by a rejected request (${what})`).toEqual([]);
}

interface ErrorBody {
  error: {
    code: string;
    message: string;
    issues?: Array<{ field: string; message: string }>;
    requestId: string;
  };
}

const KNOWN_FIELD_ROOTS = /^(body|querystring|params|headers)(\.|$)/;

/**
 * A refusal says what was wrong: a `CHORUS_*` code, a message of its own, and for invalid
 * input each issue names a field under body, querystring, params or headers and what it
 * expected. The tracking routes answer people, not programs: an HTML page or text naming
 * the code. bull-board's own API answers its own shape, with an error key.
 */
export function expectNamedRejection(
  response: { statusCode: number; headers: Record<string, unknown>; body: string },
  url: string,
): void {
  const what = `${response.statusCode} for ${url}: ${response.body.slice(0, 300)}`;
  expect(response.body.length, what).toBeGreaterThan(0);
  if (/^\/t\/[co]\//.test(url) && !String(response.headers['content-type']).includes('json')) {
    expect(response.body, what).toContain('CHORUS_TRACKING_TOKEN_INVALID');
    return;
  }
  if (/^\/admin\/queues\/api\//.test(url)) {
    const body = JSON.parse(response.body) as { error?: unknown };
    expect(body.error, what).toBeTruthy();
    return;
  }
  const body = JSON.parse(response.body) as ErrorBody;
  expect(body.error.code, what).toMatch(/^CHORUS_[A-Z_]+$/);
  expect(body.error.message.length, what).toBeGreaterThan(10);
  expect(body.error.requestId, what).toBeTruthy();
  if (body.error.code === 'CHORUS_INVALID_INPUT') {
    expect(body.error.issues?.length, what).toBeGreaterThan(0);
    for (const issue of body.error.issues ?? []) {
      expect(issue.field, what).toMatch(KNOWN_FIELD_ROOTS);
      expect(issue.message.length, what).toBeGreaterThan(3);
      expect(issue.message, what).not.toBe('Invalid input');
      expect(body.error.message, what).toContain(issue.field);
    }
  }
}

const PROTOTYPES = { Object: Object.prototype, Array: Array.prototype, Function: Function.prototype };

/**
 * The own keys of the built-in prototypes now; `expectUnchanged()` fails if a request added or
 * replaced any (prototype pollution), and checks the classic `({}).polluted` too.
 */
export function prototypeSnapshot(): { expectUnchanged: () => void } {
  const keysOf = () =>
    Object.fromEntries(
      Object.entries(PROTOTYPES).map(([name, proto]) => [
        name,
        Reflect.ownKeys(proto)
          .map(String)
          .sort()
          .map((key) => `${key}:${typeof (Object.getOwnPropertyDescriptor(proto, key)?.value as unknown)}`),
      ]),
    );
  const before = keysOf();
  return {
    expectUnchanged() {
      expect(keysOf()).toEqual(before);
      expect(({} as Record<string, unknown>).polluted).toBeUndefined();
      expect(({} as Record<string, unknown>).isAdmin).toBeUndefined();
    },
  };
}

/** Collects unhandled rejections and uncaught exceptions while a test file runs. */
export function watchProcess(): { problems: unknown[]; stop: () => void } {
  const problems: unknown[] = [];
  const onProblem = (error: unknown) => problems.push(error);
  process.on('unhandledRejection', onProblem);
  process.on('uncaughtException', onProblem);
  return {
    problems,
    stop() {
      process.off('unhandledRejection', onProblem);
      process.off('uncaughtException', onProblem);
    },
  };
}
