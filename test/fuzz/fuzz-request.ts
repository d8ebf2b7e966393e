import fc from 'fast-check';
import { createInAppToken, webhookHeaders } from '../../engine/index.js';
import { API_KEY, IN_APP_TOKEN_SECRET } from '../support/http.js';
import { FUZZ_APP_ORIGIN, WEBHOOK_SECRET, type FuzzHarness, type Route } from './fuzz-support.js';
import { hostileKey, hostileString, jsonText, someId } from './hostile-values.js';
import type { Guard, RouteSpec } from './route-specs.js';

export interface FuzzRequest {
  method: 'GET' | 'HEAD' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  url: string;
  headers: Record<string, string>;
  payload?: string | Buffer;
}

/** Percent-encodes as a browser would; a lone surrogate (not encodable) becomes bytes that are not UTF-8. */
const encode = (value: string) => {
  try {
    return encodeURIComponent(value);
  } catch {
    return '%ED%A0%80';
  }
};

const BROKEN_ENCODINGS = ['%', '%zz', '%E0%A4%A', '%ff%fe', '%C0%AF', '%00', '%2e%2e%2f'];

const pathValue = (value: fc.Arbitrary<string>) =>
  fc.oneof(
    { weight: 6, arbitrary: value.map(encode) },
    {
      weight: 1,
      arbitrary: fc.tuple(value, fc.constantFrom(...BROKEN_ENCODINGS)).map(([v, b]) => encode(v) + b),
    },
  );

function queryArb(known: Record<string, fc.Arbitrary<string>>, hostile = true): fc.Arbitrary<string> {
  const pairs = Object.entries(known).map(([key, value]) =>
    fc.option(
      fc
        .array(value, { minLength: 1, maxLength: 2 })
        .map((values) => values.map((v) => `${key}=${encode(v)}`).join('&')),
      { freq: 6 },
    ),
  );
  const extra = fc.array(
    fc.oneof(
      fc.tuple(hostileKey, hostileString).map(([k, v]) => `${encode(k)}=${encode(v)}`),
      fc.constantFrom(
        '__proto__[polluted]=1',
        'constructor[prototype][polluted]=1',
        'a=%zz',
        '&&=',
        'token[]=a',
        '%',
      ),
    ),
    { maxLength: hostile ? 2 : 0 },
  );
  return fc.tuple(fc.tuple(...pairs), extra).map(([present, more]) => {
    const parts = [...present.filter((p): p is string => p !== null), ...more];
    return parts.length === 0 ? '' : `?${parts.join('&')}`;
  });
}

const badAuthorization = fc.oneof(
  fc.constantFrom(
    'Bearer nope',
    'Bearer ',
    'Basic',
    'Basic %%%',
    `Basic ${Buffer.from('ops:wrong').toString('base64')}`,
    `Bearer ${API_KEY}\r\nX-Injected: 1`,
    `bearer ${API_KEY}x`,
    'Digest username="a"',
  ),
  hostileString,
);

/** In-app tokens of the fuzzed customers: valid at the harness's start, expired, and forged. */
function inAppTokens(h: FuzzHarness): fc.Arbitrary<string> {
  const now = h.clock.now();
  const valid = ['ada', 'bo'].map((userId) => createInAppToken(IN_APP_TOKEN_SECRET, userId, { now }));
  const expired = createInAppToken(IN_APP_TOKEN_SECRET, 'ada', { now: now - 7_200_000 });
  const forged = createInAppToken('another-secret-of-sixteen', 'ada', { now });
  return fc.constantFrom(...valid, expired, forged).map((token) => `Bearer ${token}`);
}

function authorization(guard: Guard, h: FuzzHarness, valid = false): fc.Arbitrary<string | undefined> {
  const apiKey = fc.constantFrom(
    `Bearer ${API_KEY}`,
    `Basic ${Buffer.from(`${API_KEY}:`).toString('base64')}`,
  );
  const good =
    guard === 'in-app'
      ? valid
        ? apiKey
        : fc.oneof(apiKey, inAppTokens(h))
      : guard === 'api'
        ? apiKey
        : guard === 'dashboard'
          ? fc.constant(h.basic.authorization)
          : fc.constant(undefined);
  if (valid) return good;
  return fc.oneof(
    { weight: 6, arbitrary: good },
    { weight: 1, arbitrary: fc.constant(undefined) },
    { weight: 2, arbitrary: badAuthorization },
  );
}

const CONTENT_TYPES = [
  'application/json',
  'application/json; charset=utf-8',
  'application/json; charset=latin1',
  'text/plain',
  'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=x',
  'application/octet-stream',
  'application/json\r\nX-Injected: 1',
  'application/vnd.api+json',
  '',
];

const rawBody = fc.oneof(
  fc.uint8Array({ maxLength: 64 }).map((bytes) => Buffer.from(bytes)),
  // Valid JSON around bytes that are not UTF-8: a lone continuation byte, an overlong '/', a surrogate.
  fc
    .constantFrom([0x80], [0xc0, 0xaf], [0xed, 0xa0, 0x80], [0xff, 0xfe], [0xf4, 0x90, 0x80, 0x80])
    .map((bad) =>
      Buffer.concat([Buffer.from('{"userId":"'), Buffer.from(bad), Buffer.from('","event":"e"}')]),
    ),
  fc.constantFrom('', ' ', 'null', '[]', '{', '{"a":1}{"b":2}', '\uFEFF{}', 'List-Unsubscribe=One-Click'),
);

/**
 * A request to one route: its params, query, headers and body drawn from the route's spec, with
 * hostile values and broken encodings mixed in.
 */
export function requestArb(
  h: FuzzHarness,
  route: Route,
  spec: RouteSpec,
  queueNames: string[],
): fc.Arbitrary<FuzzRequest> {
  const names = [...route.url.matchAll(/:([A-Za-z]+)|\*/g)].map((m) => m[1] ?? '*');
  const generic = (name: string) =>
    name === 'queueName'
      ? fc.oneof(fc.constantFrom(...queueNames), someId)
      : name === '*'
        ? fc.oneof(fc.constantFrom('index.html', 'swagger-ui.css', 'main.js', '../package.json'), someId)
        : someId;
  const params = fc.tuple(...names.map((name) => pathValue(spec.params?.[name] ?? generic(name))));
  const hasBody = route.method !== 'GET' && route.method !== 'HEAD';
  const body: fc.Arbitrary<string | Buffer | undefined> = hasBody
    ? fc.oneof(
        { weight: spec.body ? 8 : 0, arbitrary: spec.body ?? fc.constant(undefined) },
        { weight: 2, arbitrary: jsonText },
        { weight: 2, arbitrary: rawBody },
        { weight: 1, arbitrary: fc.constant(undefined) },
      )
    : fc.oneof({ weight: 9, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: jsonText });
  const contentType = fc.oneof(
    { weight: 6, arbitrary: fc.constant('application/json') },
    { weight: 3, arbitrary: fc.constantFrom(...CONTENT_TYPES) },
    { weight: 1, arbitrary: fc.constant(undefined) },
  );
  const optionalHeader = (arb: fc.Arbitrary<string>) => fc.option(arb, { freq: 3 });
  return fc
    .record({
      method: fc.constantFrom(
        route.method === 'GET' ? 'GET' : route.method,
        route.method === 'GET' ? 'HEAD' : route.method,
      ),
      params,
      query: queryArb(spec.query ?? {}),
      auth: authorization(spec.guard, h),
      body,
      contentType,
      requestId: optionalHeader(fc.oneof(someId, fc.constantFrom('a'.repeat(65), 'ok-id_1.2'))),
      origin: optionalHeader(
        fc.oneof(fc.constantFrom(FUZZ_APP_ORIGIN, 'https://evil.example', 'null'), hostileString),
      ),
      accept: optionalHeader(
        fc.oneof(fc.constantFrom('text/html', 'application/json', '*/*'), hostileString),
      ),
      webhookId: fc.oneof(fc.constantFrom('msg_1', 'msg_2'), someId),
      webhookAge: fc.constantFrom(0, 0, 0, 299, 301, -400, 1e12),
      signed: fc.boolean(),
      // About a third of requests are well formed apart from their values, so routes also
      // accept, and what they accept is checked as stored.
      clean: fc.nat(2).map((n) => n === 0),
      cleanBody: spec.validBody ?? spec.body ?? fc.constant(undefined),
      cleanQuery: queryArb(spec.query ?? {}, false),
      cleanAuth: authorization(spec.guard, h, true),
    })
    .map((r) =>
      r.clean
        ? {
            ...r,
            query: r.cleanQuery,
            auth: r.cleanAuth,
            body: hasBody ? r.cleanBody : undefined,
            contentType: 'application/json',
            signed: true,
            webhookAge: 0,
          }
        : r,
    )
    .map((r) => {
      let i = 0;
      const path = route.url.replace(/:[A-Za-z]+|\*/g, () => r.params[i++] ?? '');
      const headers: Record<string, string> = {};
      if (r.auth !== undefined) headers.authorization = r.auth;
      if (r.body !== undefined && r.contentType !== undefined) headers['content-type'] = r.contentType;
      if (r.requestId !== null) headers['x-request-id'] = r.requestId;
      if (r.accept !== null) headers.accept = r.accept;
      if (r.origin !== null) headers.origin = r.origin;
      if (spec.guard === 'webhook' && r.signed) {
        const seconds = Math.floor(h.clock.now() / 1000) - r.webhookAge;
        Object.assign(headers, webhookHeaders(WEBHOOK_SECRET, r.webhookId, seconds, r.body ?? ''));
      }
      return {
        method: r.method as FuzzRequest['method'],
        url: `${path}${r.query}`,
        headers,
        ...(r.body === undefined ? {} : { payload: r.body }),
      };
    });
}

/** The route a registered route is fuzzed as: HEAD through its GET. */
export const routeKey = (route: Route) => `${route.method === 'HEAD' ? 'GET' : route.method} ${route.url}`;

/** A failing request shown so it can be replayed with `inject()`. */
export const show = (request: FuzzRequest) =>
  JSON.stringify({
    ...request,
    payload: Buffer.isBuffer(request.payload)
      ? `<bytes ${request.payload.toString('hex')}>`
      : request.payload,
  }).slice(0, 2000);
