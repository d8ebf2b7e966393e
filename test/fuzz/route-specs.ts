import fc from 'fast-check';
import {
  createConsentToken,
  createTrackingToken,
  createUnsubscribeToken,
  trackingSecret,
} from '../../engine/index.js';
import { UNSUBSCRIBE_SECRET } from '../support/http.js';
import {
  HOSTILE_EMAILS,
  hostileString,
  jsonObjectText,
  jsonText,
  objectText,
  someId,
  str,
} from './hostile-values.js';

/**
 * Who a route lets in: the API key, the API key or a customer's in-app token, the dashboard's
 * basic auth, a webhook signature, or anyone.
 */
export type Guard = 'api' | 'in-app' | 'dashboard' | 'webhook' | 'open';

export interface RouteSpec {
  guard: Guard;
  /** A value for each `:param` (and `*`) of the URL, unencoded. */
  params?: Record<string, fc.Arbitrary<string>>;
  /** Query parameters the route reads; others are added at random. */
  query?: Record<string, fc.Arbitrary<string>>;
  /** The JSON body, as text. */
  body?: fc.Arbitrary<string>;
  /** A body of the right shape whose values are still hostile where any value is allowed. */
  validBody?: fc.Arbitrary<string>;
}

const NOW = Date.parse('2026-11-23T10:00:00Z');
const userId = fc.oneof(
  { weight: 2, arbitrary: fc.constantFrom('ada', 'bo') },
  { weight: 3, arbitrary: someId },
);
const instant = fc.oneof(
  fc.constantFrom('2026-11-23T10:00:00Z', '2026-11-23T10:00:00+01:00', '1970-01-01T00:00:00Z'),
  fc.constantFrom(
    '0000-01-01T00:00:00Z',
    '9999-12-31T23:59:59Z',
    '1969-12-31T23:59:59Z',
    '2026-02-30T00:00:00Z',
  ),
  fc.constantFrom('1700000000000', '0', '-1', '1e3', '99999999999999999999', 'yesterday'),
  hostileString,
);
const email = fc.oneof(
  fc.constantFrom('ada@example.com', 'bo@example.org'),
  fc.constantFrom(...HOSTILE_EMAILS),
  hostileString,
);
const jsonInstant = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom('"2026-11-23T10:00:00Z"', '1700000000000', '0') },
  { weight: 2, arbitrary: str(instant) },
  { weight: 1, arbitrary: fc.constantFrom('-5', '1.5', '1e20') },
);
const consentTrait = fc.constantFrom(
  '{"email":{"marketing":true}}',
  '{"email":{"marketing":"yes"}}',
  '{"fax":{"marketing":true}}',
  '[]',
  '"granted"',
);
const traits = fc.oneof(
  objectText({ email: str(email), firstName: str(hostileString), consent: consentTrait }),
  jsonObjectText,
);
const track = objectText({
  userId: str(userId),
  anonymousId: str(userId),
  event: str(fc.oneof(fc.constantFrom('Signed Up', 'Order Completed'), hostileString)),
  properties: fc.oneof(
    jsonObjectText,
    objectText({ plan: str(fc.constantFrom('free', 'pro')) }),
    // Past MAX_CALL_BYTES (32 KB by default): the call, alone or in a batch, is refused whole.
    fc.constant(`{"note":"${'x'.repeat(40_000)}"}`),
  ),
  messageId: str(someId),
  timestamp: jsonInstant,
});
const identify = objectText({
  userId: str(userId),
  anonymousId: str(userId),
  traits,
  messageId: str(someId),
  timestamp: jsonInstant,
});
/** A Segment page, screen, group or alias call, which Chorus accepts and ignores. */
const ignoredCall = objectText({
  userId: str(userId),
  anonymousId: str(userId),
  name: str(hostileString),
  properties: jsonObjectText,
  traits: jsonObjectText,
  messageId: str(someId),
  timestamp: jsonInstant,
});
/** Strings a schema takes as they are: any content, within the length it allows. */
const text = (max: number) => hostileString.filter((value) => value.length >= 1 && value.length <= max);
const anyProperties = fc.dictionary(
  text(30).filter((key) => key !== '__proto__'),
  fc.oneof(text(100), fc.integer(), fc.boolean(), fc.constant(null)),
  { maxKeys: 4 },
);
const json = (value: unknown) => JSON.stringify(value);
const validUserId = fc.oneof(fc.constantFrom('ada', 'bo'), text(256));
const validTrack = fc
  .record(
    { userId: validUserId, event: text(200), properties: anyProperties },
    { requiredKeys: ['userId', 'event'] },
  )
  .map(json);
const validIdentify = fc
  .record({
    userId: validUserId,
    traits: fc.record(
      {
        email: fc.constantFrom('ada@example.com', '用户@例子.广告', ''),
        firstName: text(50),
        plan: text(20),
      },
      { requiredKeys: [] },
    ),
  })
  .map(json);

const typed = (type: string) => (t: string) =>
  t.replace(/^\{/, `{"type":"${type}"` + (t === '{}' ? '' : ','));
const batchItem = fc.oneof(
  track.map(typed('track')),
  identify.map(typed('identify')),
  ignoredCall.map(typed('page')),
  jsonText,
);
/** `POST /v1/batch`, also served at `/v1/import`. */
const batch: RouteSpec = {
  guard: 'api',
  validBody: fc
    .array(
      fc.oneof(
        validTrack.map((t) => `{"type":"track",${t.slice(1)}`),
        validIdentify.map((t) => `{"type":"identify",${t.slice(1)}`),
      ),
      { minLength: 1, maxLength: 4 },
    )
    .map((items) => `{"batch":[${items.join(',')}]}`),
  body: fc.oneof(
    fc.array(batchItem, { maxLength: 4 }).map((items) => `{"batch":[${items.join(',')}]}`),
    objectText({ batch: jsonText }),
  ),
};

const channel = fc.oneof(fc.constantFrom('email', 'sms', 'push', 'in-app', 'webhook'), hostileString);

const unsubscribeToken = fc.oneof(
  fc.constantFrom(
    createUnsubscribeToken(UNSUBSCRIBE_SECRET, {
      customerId: 'ada',
      topic: 'marketing',
      exp: NOW + 86_400_000,
    }),
    createUnsubscribeToken(UNSUBSCRIBE_SECRET, { customerId: 'bo', topic: 'marketing', exp: NOW - 1 }),
    createUnsubscribeToken('another-secret-of-sixteen', {
      customerId: 'ada',
      topic: 'marketing',
      exp: NOW + 1,
    }),
  ),
  hostileString,
);
const consentToken = fc.oneof(
  fc.constantFrom(
    createConsentToken(UNSUBSCRIBE_SECRET, {
      customerId: 'ada',
      channel: 'email',
      topic: 'marketing',
      exp: NOW + 86_400_000,
    }),
  ),
  hostileString,
);
const trackingToken = fc.oneof(
  fc.constantFrom(
    createTrackingToken(trackingSecret(UNSUBSCRIBE_SECRET), {
      kind: 'click',
      opId: 'op-1',
      customerId: 'ada',
      journeyId: 'onboarding',
      message: 'welcome',
      channel: 'email',
      variant: 'control',
      url: 'https://example.com/a b?ü=1',
    }),
    createTrackingToken(trackingSecret(UNSUBSCRIBE_SECRET), {
      kind: 'open',
      opId: 'op-1',
      customerId: 'ada',
      journeyId: 'onboarding',
      message: 'welcome',
      channel: 'email',
      variant: 'control',
    }),
  ),
  hostileString,
  fc.string({ maxLength: 200 }).map((s) => s.replaceAll('/', '')),
);
// Ids of the right shape (stored or not), others, and hostile strings.
const shortLinkId = fc.oneof(
  fc.constantFrom('AAAAAAAAAAAA', 'h3X9aK2pQ0vZ', 'x', '0'.repeat(13)),
  fc.stringMatching(/^[0-9A-Za-z]{12}$/),
  hostileString,
);

/**
 * Every Chorus route, by `METHOD url` as Fastify registered it, with what its inputs look like.
 * HEAD routes are the GET routes answered without a body and are fuzzed through them.
 */
export const ROUTE_SPECS: Record<string, RouteSpec> = {
  'GET /': { guard: 'open' },
  'GET /healthz': { guard: 'open' },
  'GET /readyz': { guard: 'open' },
  'GET /metrics': { guard: 'open' },
  'GET /t/c/*': { guard: 'open', params: { '*': trackingToken } },
  'GET /t/o/*': { guard: 'open', params: { '*': trackingToken } },
  'GET /t/s/:id': { guard: 'open', params: { id: shortLinkId } },
  'POST /v1/identify': { guard: 'api', body: identify, validBody: validIdentify },
  'POST /v1/track': { guard: 'api', body: track, validBody: validTrack },
  'POST /v1/batch': batch,
  // The batch route's older name, where some Segment libraries post: the same route.
  'POST /v1/import': batch,
  'POST /v1/page': { guard: 'api', body: ignoredCall },
  'POST /v1/screen': { guard: 'api', body: ignoredCall },
  'POST /v1/group': { guard: 'api', body: ignoredCall },
  'POST /v1/alias': { guard: 'api', body: ignoredCall },
  'GET /v1/journeys': { guard: 'api' },
  'GET /v1/journeys/:id': {
    guard: 'api',
    params: { id: fc.oneof(fc.constantFrom('onboarding', 'comeback'), someId) },
  },
  'GET /v1/journeys/:id/report': {
    guard: 'api',
    params: { id: fc.oneof(fc.constantFrom('onboarding', 'comeback'), someId) },
    query: { from: instant, to: instant },
  },
  'POST /v1/journeys/:id/trigger': {
    guard: 'api',
    validBody: fc
      .record({ userId: validUserId, data: fc.record({ coupon: text(40).filter((c) => c.length >= 3) }) })
      .map(json),
    params: { id: fc.oneof(fc.constantFrom('comeback', 'onboarding'), someId) },
    body: objectText({
      userId: str(userId),
      data: fc.oneof(
        objectText({ coupon: str(fc.oneof(fc.constantFrom('SAVE10'), hostileString)) }),
        jsonObjectText,
      ),
      messageId: str(someId),
      timestamp: jsonInstant,
    }),
  },
  'GET /v1/customers/:userId': { guard: 'api', params: { userId } },
  'GET /v1/customers/:userId/export': { guard: 'api', params: { userId } },
  'DELETE /v1/customers/:userId': { guard: 'api', params: { userId } },
  'GET /v1/customers/:userId/in-app': {
    guard: 'in-app',
    params: { userId },
    query: {
      limit: fc.oneof(
        fc.constantFrom('1', '50', '1000', '1001', '0', '-1', '1e3', '0x10', ''),
        hostileString,
      ),
    },
  },
  'POST /v1/customers/:userId/in-app/:id/read': { guard: 'in-app', params: { userId, id: someId } },
  'POST /v1/customers/:userId/in-app/:id/dismiss': { guard: 'in-app', params: { userId, id: someId } },
  // Browsers' CORS preflights of the in-app routes: no key, no Redis.
  'OPTIONS /v1/customers/:userId/in-app': { guard: 'open', params: { userId } },
  'OPTIONS /v1/customers/:userId/in-app/:id/read': { guard: 'open', params: { userId, id: someId } },
  'OPTIONS /v1/customers/:userId/in-app/:id/dismiss': { guard: 'open', params: { userId, id: someId } },
  'POST /v1/customers/:userId/consent': {
    guard: 'api',
    validBody: fc
      .record({
        channel: fc.constantFrom('email', 'sms', 'push', 'in-app'),
        topic: fc.constantFrom('marketing', 'transactional'),
        granted: fc.boolean(),
        source: text(200),
      })
      .map(json),
    params: { userId },
    body: objectText({
      channel: str(channel),
      topic: str(fc.oneof(fc.constantFrom('marketing', 'transactional'), hostileString)),
      granted: fc.constantFrom('true', 'false', '"true"', '1', 'null'),
      source: str(hostileString),
      textVersion: str(hostileString),
      timestamp: jsonInstant,
    }),
  },
  'GET /v1/customers/:userId/consent': { guard: 'api', params: { userId } },
  'POST /v1/delivery-events': {
    guard: 'api',
    validBody: fc
      .record({
        type: fc.constantFrom('bounce', 'complaint'),
        bounceType: fc.constantFrom('hard', 'soft'),
        channel: fc.constant('email'),
        address: fc.emailAddress(),
        source: text(200),
      })
      .map(json),
    body: objectText({
      type: str(fc.oneof(fc.constantFrom('bounce', 'complaint', 'delivered'), hostileString)),
      bounceType: str(fc.constantFrom('hard', 'soft', 'HARD')),
      channel: str(fc.oneof(fc.constantFrom('email', 'sms', 'push', 'webhook'), hostileString)),
      address: str(email),
      source: str(hostileString),
      timestamp: jsonInstant,
      customerId: str(userId),
      opId: str(someId),
    }),
  },
  'GET /v1/suppressions': {
    guard: 'api',
    query: { channel: fc.oneof(fc.constantFrom('email', 'sms'), hostileString), address: email },
  },
  'DELETE /v1/suppressions': {
    guard: 'api',
    query: {
      channel: fc.oneof(fc.constantFrom('email', 'sms'), hostileString),
      address: email,
      reason: fc.oneof(fc.constantFrom('hard-bounce', 'complaint', 'unsubscribe'), hostileString),
    },
  },
  'POST /v1/webhooks/:source': {
    guard: 'webhook',
    validBody: fc.record({ customer: fc.record({ id: validUserId }), total: fc.integer() }).map(json),
    params: {
      source: fc.oneof({ weight: 4, arbitrary: fc.constant('shop') }, { weight: 1, arbitrary: someId }),
    },
    body: fc.oneof(
      objectText({
        customer: objectText({ id: str(userId) }),
        total: fc.constantFrom('42', '-1', '"42"', '1e308'),
      }),
      jsonText,
    ),
  },
  // Unsigned, as a fuzzer cannot sign: every request must be refused, named, writing nothing.
  'POST /v1/sms/inbound/twilio': {
    guard: 'open',
    body: fc.oneof(
      objectText({ From: str(fc.constantFrom('+15550100', 'whatsapp:+15550100')), Body: str(hostileString) }),
      jsonText,
    ),
  },
  'GET /v1/unsubscribe': { guard: 'open', query: { token: unsubscribeToken } },
  'POST /v1/unsubscribe': { guard: 'open', query: { token: unsubscribeToken } },
  'GET /v1/consent/confirm': { guard: 'open', query: { token: consentToken } },
  'POST /v1/consent/confirm': { guard: 'open', query: { token: consentToken } },
  'GET /admin/journeys': { guard: 'dashboard' },
  'GET /admin/journeys/mermaid.js': { guard: 'dashboard' },
  'GET /admin/journeys/:id': {
    guard: 'dashboard',
    params: { id: fc.oneof(fc.constantFrom('onboarding', 'comeback'), someId) },
  },
  'GET /admin/journeys/*': { guard: 'dashboard' },
  'GET /admin': { guard: 'dashboard' },
  'GET /admin/': { guard: 'dashboard' },
};

/**
 * Routes that come from plugins, fuzzed by prefix with generic inputs rather than one spec each:
 * their inputs are the plugin's business, but a 5xx, a crash, or a write by a refused request
 * is still ours (bull-board is mounted read-only, so every write it offers must be refused).
 */
export const PLUGIN_PREFIXES: Record<string, Guard> = {
  // @fastify/swagger-ui: the API reference and its static assets.
  '/docs': 'open',
  // bull-board: the queue dashboard, its JSON API and static assets, behind basic auth.
  '/admin/queues': 'dashboard',
};
