import fc from 'fast-check';
import addressparser from 'nodemailer/lib/addressparser/index.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTrackingToken, trackingSecret, webhookHeaders } from '../../engine/index.js';
import { MAX_JSON_DEPTH } from '../../engine/http/json-body.js';
import { UNSUBSCRIBE_SECRET } from '../support/http.js';
import {
  expectNamedRejection,
  expectNoWrites,
  fuzzHarness,
  fuzzParams,
  prototypeSnapshot,
  RUNS,
  watchProcess,
  WEBHOOK_SECRET,
  writeWatch,
  type FuzzHarness,
  type WriteWatch,
} from './fuzz-support.js';
import { HOSTILE_EMAILS, hostileString } from './hostile-values.js';

let h: FuzzHarness;
let writes: WriteWatch;
const watch = watchProcess();
const prototypes = prototypeSnapshot();

beforeAll(async () => {
  h = await fuzzHarness();
  writes = await writeWatch(h);
});
afterAll(async () => {
  writes.close();
  await h.close();
  watch.stop();
});

interface Sent {
  statusCode: number;
  headers: Record<string, unknown>;
  body: string;
  json: <T>() => T;
}

/** Sends, and when refused checks that the refusal names what was wrong and stored nothing. */
async function send(
  url: string,
  payload: string | Buffer,
  headers: Record<string, string> = {},
  method: 'POST' | 'GET' = 'POST',
): Promise<Sent> {
  const { result: response, keys } = await writes.during(() =>
    h.app.inject({
      method,
      url,
      payload,
      headers: { ...h.auth, 'content-type': 'application/json', ...headers },
    }),
  );
  const what = `${response.statusCode} ${url}: ${response.body.slice(0, 300)}`;
  expect(response.statusCode, what).toBeLessThan(500);
  if (response.statusCode >= 400) {
    expectNamedRejection(response, url);
    expectNoWrites(keys, what);
  }
  return response as unknown as Sent;
}

const issues = (response: Sent) =>
  response.json<{ error: { code: string; issues?: Array<{ field: string; message: string }> } }>().error;

const signed = (body: string | Buffer, id: string) =>
  webhookHeaders(WEBHOOK_SECRET, id, Math.floor(h.clock.now() / 1000), body);

/** The routes that read a JSON body, each with a valid body around a hole `$` for the hostile part. */
const BODY_ROUTES: Array<{ url: string; around: string; field: string }> = [
  { url: '/v1/track', around: '{"userId":"u1","event":"E","properties":$}', field: 'body.properties' },
  { url: '/v1/identify', around: '{"userId":"u1","traits":$}', field: 'body.traits' },
  {
    url: '/v1/batch',
    around: '{"batch":[{"type":"track","userId":"u1","event":"E","properties":$}]}',
    field: 'body.batch.0.properties',
  },
  { url: '/v1/journeys/comeback/trigger', around: '{"userId":"u1","data":$}', field: 'body.data' },
  { url: '/v1/webhooks/shop', around: '{"customer":{"id":"u1"},"total":1,"extra":$}', field: 'body.extra' },
  {
    url: '/v1/customers/u1/consent',
    around: '{"channel":"email","topic":"marketing","granted":true,"x":$}',
    field: 'body.x',
  },
  {
    url: '/v1/delivery-events',
    around: '{"type":"complaint","channel":"email","address":"a@b.co","x":$}',
    field: 'body.x',
  },
];

const bodyRoute = fc.constantFrom(...BODY_ROUTES);
let webhookIds = 0;
const headersFor = (url: string, body: string | Buffer) =>
  url.startsWith('/v1/webhooks/') ? signed(body, `msg-${++webhookIds}`) : {};

describe('hostile JSON bodies', () => {
  it(`refuses nesting deeper than ${MAX_JSON_DEPTH} levels (up to 100,000) with a 400 naming the field, never a stack overflow`, async () => {
    await fc.assert(
      fc.asyncProperty(
        bodyRoute,
        fc.oneof(fc.integer({ min: MAX_JSON_DEPTH, max: 200 }), fc.constantFrom(10_000, 100_000)),
        fc.constantFrom('array', 'object'),
        async (route, depth, kind) => {
          const nested =
            kind === 'array'
              ? '['.repeat(depth) + ']'.repeat(depth)
              : '{"a":'.repeat(depth) + '1' + '}'.repeat(depth);
          const body = route.around.replace('$', nested);
          const response = await send(route.url, body, headersFor(route.url, body));
          expect(response.statusCode).toBe(400);
          const error = issues(response);
          expect(error.issues?.[0]?.field.startsWith(route.field)).toBe(true);
          expect(error.issues?.[0]?.message).toContain(`deeper than ${MAX_JSON_DEPTH}`);
        },
      ),
      fuzzParams(Math.ceil(RUNS / 3)),
    );
  });

  it('accepts nesting a little shallower than the limit, and stores it', async () => {
    const depth = MAX_JSON_DEPTH - 4;
    const nested = '{"a":'.repeat(depth) + '1' + '}'.repeat(depth);
    const response = await send('/v1/track', `{"userId":"deep","event":"E","properties":${nested}}`);
    expect(response.statusCode).toBe(200);
    const stored = (await h.engine.customer('deep')).recentEvents[0];
    expect(JSON.stringify(stored?.kind === 'track' ? stored.properties : undefined)).toBe(nested);
  });

  it('answers 413 for a body over the limit, on every body route, and stores nothing', async () => {
    await fc.assert(
      fc.asyncProperty(
        bodyRoute,
        fc.integer({ min: 1024 * 1024, max: 3 * 1024 * 1024 }),
        async (route, size) => {
          const body = route.around.replace('$', JSON.stringify('x'.repeat(size)));
          const response = await send(route.url, body, headersFor(route.url, body));
          expect(response.statusCode).toBe(413);
          expect(issues(response).code).toBe('CHORUS_BODY_TOO_LARGE');
        },
      ),
      fuzzParams(8),
    );
    const form = await send('/v1/unsubscribe?token=x', 'a'.repeat(2 * 1024 * 1024), {
      'content-type': 'application/x-www-form-urlencoded',
    });
    expect(form.statusCode).toBe(413);
  });

  it('refuses bytes that are not UTF-8 anywhere in the body, saying so, and stores nothing', async () => {
    const invalid = fc.constantFrom(
      [0x80],
      [0xbf],
      [0xc0, 0xaf],
      [0xc3],
      [0xe0, 0x80, 0xaf],
      [0xed, 0xa0, 0x80],
      [0xf4, 0x90, 0x80, 0x80],
      [0xf8, 0x88, 0x80, 0x80, 0x80],
      [0xfe],
      [0xff],
    );
    await fc.assert(
      fc.asyncProperty(bodyRoute, invalid, fc.nat(), async (route, bad, at) => {
        // Inside a string value, where a lenient decoder would slip in U+FFFD and store it.
        const text = route.around.replace('$', '"before|after"');
        const cut = text.indexOf('|') - (at % 3);
        const body = Buffer.concat([
          Buffer.from(text.slice(0, cut)),
          Buffer.from(bad),
          Buffer.from(text.slice(cut)),
        ]);
        const response = await send(route.url, body, headersFor(route.url, body));
        expect(response.statusCode).toBe(400);
        expect(issues(response).code).toBe('CHORUS_INVALID_JSON');
        expect(response.body).toContain('UTF-8');
      }),
      fuzzParams(RUNS),
    );
  });

  it('refuses a __proto__ key, or a constructor holding prototype, at any depth, naming its path', async () => {
    const key = fc.stringMatching(/^[a-z]{1,6}$/);
    await fc.assert(
      fc.asyncProperty(
        bodyRoute,
        fc.array(key, { maxLength: 6 }),
        fc.constantFrom('__proto__', 'constructor'),
        async (route, path, hostile) => {
          const inner =
            hostile === '__proto__'
              ? '{"__proto__":{"polluted":true}}'
              : '{"constructor":{"prototype":{"polluted":true}}}';
          const nested = path.reduceRight((value, k) => `{${JSON.stringify(k)}:${value}}`, inner);
          const body = route.around.replace('$', nested);
          const response = await send(route.url, body, headersFor(route.url, body));
          expect(response.statusCode).toBe(400);
          expect(issues(response).issues?.[0]?.field).toBe([route.field, ...path, hostile].join('.'));
          prototypes.expectUnchanged();
        },
      ),
      fuzzParams(RUNS),
    );
  });

  it('stores keys named constructor and prototype as plain data, and pollutes nothing', async () => {
    const body =
      '{"userId":"protos","event":"E","properties":{"constructor":"c","prototype":{"polluted":1},"toString":"t","hasOwnProperty":2}}';
    const response = await send('/v1/track', body);
    expect(response.statusCode).toBe(200);
    const stored = (await h.engine.customer('protos')).recentEvents[0];
    expect(JSON.stringify(stored?.kind === 'track' ? stored.properties : undefined)).toBe(
      '{"constructor":"c","prototype":{"polluted":1},"toString":"t","hasOwnProperty":2}',
    );
    const customer = await h.app.inject({ url: '/v1/customers/protos/export', headers: h.auth });
    expect(customer.statusCode).toBe(200);
    prototypes.expectUnchanged();
  });

  it('ignores prototype keys in query strings', async () => {
    for (const query of [
      '__proto__[polluted]=1',
      'constructor[prototype][polluted]=1',
      '__proto__.polluted=1',
    ])
      for (const url of [
        `/v1/customers/ada/in-app?${query}`,
        `/v1/suppressions?channel=email&address=a@b.co&${query}`,
      ])
        expect((await h.app.inject({ url, headers: h.auth })).statusCode).toBeLessThan(500);
    prototypes.expectUnchanged();
  });
});

describe('CRLF in names, header values and redirects', () => {
  const crlf = fc
    .tuple(
      hostileString,
      fc.constantFrom('\r\n', '\n', '\r', '\r\n\r\n'),
      fc.constantFrom('X-Injected: 1', 'Set-Cookie: s=1', '<html>'),
    )
    .map(([a, b, c]) => `${a}${b}${c}`);

  it('stores user ids and event names with line breaks verbatim, and reads them back by URL', async () => {
    await fc.assert(
      fc.asyncProperty(crlf, crlf, async (userId, event) => {
        fc.pre(
          userId.length <= 256 &&
            event.length <= 200 &&
            userId.trim() !== '' &&
            !/[\uD800-\uDFFF]/.test(userId),
        );
        const response = await send('/v1/track', JSON.stringify({ userId, event }));
        expect(response.statusCode).toBe(200);
        const read = await h.app.inject({
          url: `/v1/customers/${encodeURIComponent(userId)}`,
          headers: h.auth,
        });
        expect(read.statusCode).toBe(200);
        expect(read.json<{ userId: string }>().userId).toBe(userId);
        expect(Object.keys(read.headers).filter((name) => /injected|set-cookie/i.test(name))).toEqual([]);
      }),
      fuzzParams(RUNS),
    );
  });

  it('never echoes a header value with a line break into a response header', async () => {
    await fc.assert(
      fc.asyncProperty(
        crlf,
        fc.constantFrom('x-request-id', 'accept', 'authorization', 'content-type', 'origin', 'host'),
        async (value, name) => {
          for (const url of [
            '/healthz',
            '/v1/journeys',
            '/v1/consent/confirm?token=x',
            '/admin/journeys',
            '/nope',
          ]) {
            const response = await h.app.inject({ url, headers: { ...h.auth, [name]: value } });
            expect(response.statusCode).toBeLessThan(500);
            for (const [header, sent] of Object.entries(response.headers)) {
              expect(header).not.toMatch(/injected|set-cookie/i);
              expect(String(sent)).not.toMatch(/[\r\n]/);
            }
          }
        },
      ),
      fuzzParams(Math.ceil(RUNS / 2)),
    );
  });

  it('redirects a tracked link to its URL without a line break in Location, whatever the URL held', async () => {
    const secret = trackingSecret(UNSUBSCRIBE_SECRET);
    await fc.assert(
      fc.asyncProperty(fc.oneof(crlf, hostileString, fc.webUrl()), async (tail) => {
        const url = /^https?:/.test(tail) ? tail : `https://example.com/${tail}`;
        let token: string;
        try {
          token = createTrackingToken(secret, {
            kind: 'click',
            opId: 'op-x',
            customerId: 'ada',
            journeyId: 'onboarding',
            message: 'welcome',
            channel: 'email',
            variant: 'control',
            url,
          });
        } catch {
          return; // not a URL a link could be tracked to: it never gets a token
        }
        const response = await h.app.inject({ url: `/t/c/${token}` });
        expect(response.statusCode).toBe(302);
        expect(String(response.headers.location)).not.toMatch(/[\r\n\s]/);
      }),
      fuzzParams(RUNS),
    );
  });
});

describe('hostile email addresses', () => {
  const email = fc.oneof(
    fc.constantFrom(...HOSTILE_EMAILS),
    hostileString,
    fc.emailAddress(),
    fc
      .tuple(fc.emailAddress(), fc.constantFrom('\r\nBcc: x@y.z', ', x@y.z', ' <x@y.z>', '\u0000'))
      .map(([a, b]) => a + b),
  );

  it('identify takes an email trait only when it is one plain address, which a mailer reads as exactly that', async () => {
    await fc.assert(
      fc.asyncProperty(email, async (address) => {
        const response = await send(
          '/v1/identify',
          JSON.stringify({ userId: 'mailbox', traits: { email: address } }),
        );
        if (response.statusCode === 400) {
          expect(issues(response).issues?.map((i) => i.field)).toContain('body.traits.email');
          return;
        }
        expect(response.statusCode).toBe(200);
        if (address.trim() === '') return;
        // nodemailer's own parser, as the email adapter hands it `to`: one mailbox, this one.
        const parsed = addressparser(address.trim(), { flatten: true });
        expect(parsed).toEqual([{ name: '', address: address.trim() }]);
      }),
      fuzzParams(RUNS * 2),
    );
  });

  it('refuses the classic header injections by name', async () => {
    for (const address of [
      'a@b.c\r\nBcc: x@y.z',
      'a@b.c, x@y.z',
      '"Ada" <ada@example.com>',
      'a@b@example.com',
    ]) {
      const response = await send(
        '/v1/identify',
        JSON.stringify({ userId: 'mailbox', traits: { email: address } }),
      );
      expect(response.statusCode).toBe(400);
      expect(issues(response).issues?.[0]?.field).toBe('body.traits.email');
    }
  });

  it('delivery events and suppression look-ups take any address without a 5xx; a suppressed one is stored as sent', async () => {
    await fc.assert(
      fc.asyncProperty(email, fc.constantFrom('email', 'sms'), async (address, channel) => {
        const response = await send(
          '/v1/delivery-events',
          JSON.stringify({ type: 'complaint', channel, address }),
        );
        // A lone surrogate cannot be percent-encoded, so no client could send it in a query.
        if (/[\uD800-\uDFFF]/.test(address.replace(/[\uD800-\uDBFF][\uDC00-\uDFFF]/g, ''))) return;
        const lookup = await h.app.inject({
          url: `/v1/suppressions?channel=${channel}&address=${encodeURIComponent(address)}`,
          headers: h.auth,
        });
        expect(lookup.statusCode).toBeLessThan(500);
        if (response.statusCode === 200) {
          expect(lookup.statusCode).toBe(200);
          expect(lookup.json<{ suppressions: unknown[] }>().suppressions.length).toBeGreaterThan(0);
        }
      }),
      fuzzParams(RUNS),
    );
  });
});

describe('after all of it', () => {
  it('no request crashed the process or polluted a prototype', () => {
    expect(watch.problems).toEqual([]);
    prototypes.expectUnchanged();
  });
});
