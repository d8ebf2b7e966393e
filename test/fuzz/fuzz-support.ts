import diagnostics from 'node:diagnostics_channel';
import type { FastifyInstance } from 'fastify';
import type fc from 'fast-check';
import { Redis } from 'ioredis';
import { expect } from 'vitest';
import { z } from 'zod';
import { defineWebhookSource, generateWebhookSecret } from '../../engine/index.js';
import { comeback } from '../fixtures/journeys/comeback.js';
import { onboarding } from '../fixtures/journeys/onboarding.js';
import { DASHBOARD, httpHarness, type HttpHarness } from '../support/http.js';
import { TEST_REDIS_URL } from '../support/redis.js';

/** Runs per property: enough to hit every branch of the hostile generators, small enough for CI. */
export const RUNS = Number(process.env.FUZZ_RUNS ?? 60);

/** A fixed seed unless FUZZ_SEED is set, so CI is repeatable; fast-check prints it on failure. */
export const fuzzParams = (numRuns = RUNS): fc.Parameters<unknown> => ({
  numRuns,
  seed: process.env.FUZZ_SEED === undefined ? 0x5eed : Number(process.env.FUZZ_SEED),
  endOnFailure: true,
});

export const WEBHOOK_SECRET = generateWebhookSecret();
/** The origin the fuzzed app allows to call the in-app routes from a browser (IN_APP_CORS_ORIGINS). */
export const FUZZ_APP_ORIGIN = 'https://app.example.com';

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
      // So the inbound SMS route checks signatures (unconfigured, it answers 404 to everything).
      twilioAuthToken: 'fuzz-twilio-auth-token',
      inAppCorsOrigins: [FUZZ_APP_ORIGIN],
    });
  } finally {
    diagnostics.unsubscribe('fastify.initialization', onInit);
  }
  const basic = `Basic ${Buffer.from(`${DASHBOARD.user}:${DASHBOARD.password}`).toString('base64')}`;
  return { ...h, routes, basic: { authorization: basic } };
}

/**
 * Every key written under the harness's prefix, by anyone, as Redis reports it: server-assisted
 * client tracking in broadcast mode sends an invalidation for each key modified under the
 * prefixes (Lua scripts included), whatever the size of the database. Rate-limit counters are
 * left out, as every `/v1` request moves them by design.
 */
export async function writeWatch(h: HttpHarness): Promise<WriteWatch> {
  const subscriber = new Redis(TEST_REDIS_URL);
  const tracker = new Redis(TEST_REDIS_URL);
  const written: string[] = [];
  subscriber.on('message', (_channel: string, key: string) => written.push(key));
  const id = await subscriber.client('ID');
  await subscriber.subscribe('__redis__:invalidate');
  await tracker.client(
    'TRACKING',
    'ON',
    'REDIRECT',
    id,
    'BCAST',
    'PREFIX',
    `${h.prefix}:`,
    'PREFIX',
    `{${h.prefix}}:`,
  );
  return {
    async during<T>(action: () => Promise<T>): Promise<{ result: T; keys: string[] }> {
      // Invalidations of earlier writes still on their way are drained first.
      await subscriber.ping();
      written.length = 0;
      const result = await action();
      // An accepted event's drain job is added after its answer: inside this window, not the next.
      await h.settleIngest();
      // Invalidations are pushed when the write runs; a PING's answer comes after all of them.
      await subscriber.ping();
      const keys = written.filter((key) => !key.startsWith(`${h.prefix}:rate:`));
      return { result, keys: [...new Set(keys)] };
    },
    close() {
      subscriber.disconnect();
      tracker.disconnect();
    },
  };
}

export interface WriteWatch {
  /** Runs `action` and returns the keys written meanwhile. */
  during<T>(action: () => Promise<T>): Promise<{ result: T; keys: string[] }>;
  close(): void;
}

export function expectNoWrites(keys: readonly string[], what: string): void {
  expect(keys.join(', '), `Redis keys written by a refused request (${what})`).toBe('');
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
 * the code. bull-board's API and static files answer in bull-board's shape, with an error key.
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
  // A link from a message refused to a browser: a page naming the error's code.
  if (String(response.headers['content-type']).includes('text/html')) {
    expect(response.body, what).toMatch(/CHORUS_[A-Z_]+/);
    return;
  }
  // bull-board's error handler covers its whole scope (its API and static files): its own shape.
  if (/^\/admin\/queues\/(api|static)\//.test(url)) {
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
