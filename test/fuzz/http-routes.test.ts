import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { allQueues } from '../../engine/runtime/queues.js';
import { requestArb, routeKey, show, type FuzzRequest } from './fuzz-request.js';
import {
  expectNamedRejection,
  expectNoWrites,
  fuzzHarness,
  fuzzParams,
  prototypeSnapshot,
  RUNS,
  watchProcess,
  writeWatch,
  type FuzzHarness,
  type WriteWatch,
} from './fuzz-support.js';
import { PLUGIN_PREFIXES, ROUTE_SPECS, type RouteSpec } from './route-specs.js';

let h: FuzzHarness;
let queueNames: string[];
let writes: WriteWatch;
const watch = watchProcess();
const prototypes = prototypeSnapshot();

beforeAll(async () => {
  h = await fuzzHarness();
  queueNames = allQueues(h.engine.queues).map((queue) => queue.name);
  writes = await writeWatch(h);
  // Customers to find, so the routes that read them answer 200 as well as 404.
  for (const userId of ['ada', 'bo'])
    await h.app.inject({
      method: 'POST',
      url: '/v1/identify',
      headers: h.auth,
      payload: { userId, traits: { email: `${userId}@example.com`, firstName: userId } },
    });
});

afterAll(async () => {
  writes.close();
  await h.close();
  watch.stop();
});

const pluginPrefix = (url: string) =>
  Object.keys(PLUGIN_PREFIXES).find((prefix) => url === prefix || url.startsWith(`${prefix}/`));

type Json = Record<string, unknown>;
const parse = (payload: FuzzRequest['payload']) => JSON.parse(String(payload)) as Json;

/** An accepted event is in the customer's inbox, with the properties as sent. */
async function expectStored(request: FuzzRequest, body: Json, sent: Json, userId: unknown) {
  if (body.duplicate === true || body.ignored === true) return;
  const customer = await h.engine.customer(String(userId));
  // An entry is not listed among recent events; with no workers it waits in the inbox.
  if (request.url.includes('/trigger')) {
    expect(customer.pendingEvents, show(request)).toBeGreaterThan(0);
    return;
  }
  const stored = customer.recentEvents.find((event) => event.id === body.eventId);
  expect(stored, `event ${String(body.eventId)} of ${show(request)}`).toBeDefined();
  if (stored?.kind === 'track' && request.url.startsWith('/v1/track'))
    expect(JSON.stringify(stored.properties)).toBe(JSON.stringify(sent.properties ?? {}));
}

async function expectAcceptedStored(request: FuzzRequest, status: number, text: string, keys: string[]) {
  const path = request.url.split('?')[0]!;
  // Segment calls are answered 200, as Segment's API answers them; API entries and webhooks 202.
  const segmentCall = /^\/v1\/(track|identify|batch|import|page|screen|group|alias)$/.test(path);
  if (request.method !== 'POST' || status !== (segmentCall ? 200 : 202)) return;
  const body = JSON.parse(text) as Json;
  const sent = parse(request.payload);
  // The write watch sees what is stored; were it blind, the refusals' "nothing written" would prove nothing.
  if (body.duplicate === false && body.ignored !== true)
    expect(keys.length, show(request)).toBeGreaterThan(0);
  // A call taken and ignored (a Segment page call, a visitor's track) stores nothing.
  if (body.ignored === true && !path.startsWith('/v1/webhooks/')) expectNoWrites(keys, show(request));
  if (path === '/v1/track' || path === '/v1/identify' || path.endsWith('/trigger'))
    await expectStored(request, body, sent, sent.userId);
  else if (path === '/v1/batch') {
    const items = sent.batch as Json[];
    const results = body.results as Json[];
    expect(results).toHaveLength(items.length);
    for (const [index, item] of items.entries())
      await expectStored(request, results[index]!, item, item.userId);
  } else if (path.startsWith('/v1/webhooks/'))
    await expectStored(request, body, sent, (sent.customer as Json).id);
}

/**
 * The properties every request must keep, whatever it carries: no 5xx; a refusal names what
 * was wrong and leaves Redis as it was; an accepted event is really stored.
 */
async function checkOne(request: FuzzRequest): Promise<void> {
  const { result: response, keys } = await writes.during(() => h.app.inject(request));
  const what = `${response.statusCode} ${show(request)} -> ${response.body.slice(0, 300)}`;
  expect(response.statusCode, what).toBeLessThan(500);
  if (response.statusCode >= 400) {
    if (request.method !== 'HEAD') expectNamedRejection(response, request.url);
    expectNoWrites(keys, what);
  } else await expectAcceptedStored(request, response.statusCode, response.body, keys);
}

describe('fuzzing every HTTP route', () => {
  it('has a fuzz property for every route the app registers', () => {
    const routes = h.routes.map(routeKey);
    const unfuzzed = routes.filter((key) => !(key in ROUTE_SPECS) && !pluginPrefix(key.split(' ')[1]!));
    expect(unfuzzed, 'routes with neither a spec in route-specs.ts nor a plugin prefix').toEqual([]);
    // And no spec is left over from a route that is gone.
    expect(Object.keys(ROUTE_SPECS).filter((key) => !routes.includes(key))).toEqual([]);
    expect(h.routes.length).toBeGreaterThan(60);
  });

  it.each(Object.entries(ROUTE_SPECS))('%s: no 5xx, refusals named and harmless', async (key, spec) => {
    const [method, url] = key.split(' ') as [string, string];
    await fc.assert(
      fc.asyncProperty(requestArb(h, { method, url }, spec, queueNames), checkOne),
      fuzzParams(RUNS),
    );
  });

  it('plugin routes (bull-board read-only, swagger-ui): no 5xx, refusals harmless', async () => {
    const routes = h.routes.filter((route) => route.method !== 'HEAD' && pluginPrefix(route.url));
    const arbs = routes.map((route) => {
      const spec: RouteSpec = { guard: PLUGIN_PREFIXES[pluginPrefix(route.url)!]! };
      return requestArb(h, route, spec, queueNames);
    });
    await fc.assert(fc.asyncProperty(fc.oneof(...arbs), checkOne), fuzzParams(RUNS * 8));
  });

  it('no request crashed the process or polluted a prototype', () => {
    expect(watch.problems).toEqual([]);
    prototypes.expectUnchanged();
  });
});
