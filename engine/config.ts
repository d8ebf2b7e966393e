import { createPrivateKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { CALL_BYTES_BOUNDS, DEFAULT_MAX_CALL_BYTES } from './ingest/call-size.js';
import { senderDomain } from './channels/sender-domain.js';
import { IN_APP_TTL_MS } from './channels/in-app-adapter.js';
import { ServiceAccount } from './channels/service-account.js';
import { parseSmtpUrl } from './channels/smtp-url.js';
import { isWebhookSecret } from './channels/standard-webhooks.js';
import { decimalNumber } from './decimal-number.js';
import { parseDuration } from './duration.js';
import { BrandLinkHosts } from './messages/brand-hosts.js';
import { DEFAULT_API_RATE_LIMIT } from './http/rate-limit.js';
import { DEFAULT_API_REDIS_TIMEOUT_MS } from './http/api-redis-options.js';
import { DEFAULT_REQUEST_TIMEOUT_MS } from './http/http-options.js';
import { ChorusError } from './errors.js';
import { MAX_QUEUE_SHARDS } from './runtime/queue-shards.js';
import { MAX_TIMER_MS, TIMING_BOUNDS } from './runtime/engine-timing.js';
import { KEEP_FINISHED_DEFAULT } from './journey/journey-catalog.js';
import { isTimeZone } from './local-time.js';
import { RedisClusterNodes, RedisUrl, type RedisTarget } from './redis/connection.js';
import { FrequencyCapRules } from './policy/cap-rules.js';
import { QuietHoursWindow } from './policy/quiet-hours.js';
import { DEFAULT_SHORT_LINK_DAYS } from './tracking/short-links.js';

/** The items of a comma-separated value, blanks around each and empty ones dropped. */
const splitList = (value: string): string[] =>
  value
    .split(',')
    .map((entry) => entry.trim())
    .filter(Boolean);

const Roles = z
  .string()
  .transform(splitList)
  .pipe(z.array(z.enum(['journeys', 'deliveries'])).min(1));

const RateLimit = z
  .string()
  .regex(/^\d+\/\S+$/, 'a rate such as 10/1s')
  .transform((value, ctx) => {
    const [max, duration] = value.split('/') as [string, string];
    let ms: number;
    try {
      ms = parseDuration(duration);
    } catch {
      ctx.addIssue({ code: 'custom', message: `cannot read "${duration}" as a duration` });
      return z.NEVER;
    }
    // A window of no time never ends (the API's limit would count nothing, and its reset would
    // read NaN), and a limit of 0 refuses everything: neither is a rate.
    if (ms <= 0 || Number(max) < 1) {
      ctx.addIssue({
        code: 'custom',
        message: `"${value}" is no rate: give at least 1 per window, and a window longer than 0, such as 10/1s`,
      });
      return z.NEVER;
    }
    return { max: Number(max), duration: ms };
  });

/** A duration such as `30d` or `12h`, in ms: longer than 0. */
const PositiveDuration = z.string().transform((value, ctx) => {
  let ms: number;
  try {
    ms = parseDuration(value.trim());
  } catch {
    ms = Number.NaN;
  }
  if (!(ms > 0 && Number.isFinite(ms))) {
    ctx.addIssue({ code: 'custom', message: `"${value}" is no duration longer than 0, such as 30d or 12h` });
    return z.NEVER;
  }
  return ms;
});

/** A comma-separated list of `item`s; unset, none. */
const commaList = (item: z.ZodString | z.ZodType<string, string>) =>
  z.string().transform(splitList).pipe(z.array(item)).default([]);

/** The origin of an http(s) URL as a browser sends it in `Origin`, else undefined. */
function originOf(url: string): string | undefined {
  try {
    const parsed = new URL(url);
    return parsed.protocol === 'http:' || parsed.protocol === 'https:' ? parsed.origin : undefined;
  } catch {
    return undefined;
  }
}

/** A service account key given as JSON text, checked whole so a bad key names its variable. */
function serviceAccountFrom(text: string, ctx: z.RefinementCtx): ServiceAccount {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    ctx.addIssue({ code: 'custom', message: 'not JSON: give the service account key file as downloaded' });
    return z.NEVER;
  }
  const parsed = ServiceAccount.safeParse(json);
  if (!parsed.success) {
    const fields = parsed.error.issues.map((issue) => issue.path.join('.') || '(root)').join(', ');
    ctx.addIssue({ code: 'custom', message: `not a service account key (${fields} missing or malformed)` });
    return z.NEVER;
  }
  return parsed.data;
}

/** The number variables, so that loadConfig asks for a number when one is set but empty. */
const numberSchemas = new WeakSet<z.ZodType>();

/**
 * A number from the environment, in plain decimals (see decimalNumber): `PORT=1e3` or
 * `TIME_SCALE=0x10` is refused, naming the variable. Set but empty is refused (by loadConfig)
 * rather than read as 0 (what `Number('')` gives): `PORT=` would listen on a random port,
 * `SHUTDOWN_DEADLINE_MS=` not wait.
 */
function envNumber(schema: z.ZodNumber) {
  const number = decimalNumber(schema);
  numberSchemas.add(number);
  return number;
}

const maxTimer = (schema: z.ZodNumber) =>
  schema.max(MAX_TIMER_MS, `at most ${MAX_TIMER_MS} (about 24 days, the longest timer Node.js keeps)`);

/** Every environment variable the engine reads, parsed once at start-up. */
const EnvShape = z.object({
  REDIS_URL: RedisUrl.optional(),
  /** Seed nodes of a Redis Cluster, `host:port,host:port`; instead of REDIS_URL. */
  REDIS_CLUSTER_NODES: RedisClusterNodes.optional(),
  /** Prefix of every Redis key; one per environment sharing a Redis. */
  REDIS_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9_-]{1,40}$/, 'letters, digits, _ and -')
    .default('chorus'),
  /** Journey time runs this many times faster than real time: 86400 makes a day last a second. */
  TIME_SCALE: envNumber(z.number().positive().max(TIMING_BOUNDS.timeScale.max)).default(1),
  JOURNEY_CONCURRENCY: envNumber(z.number().int().min(1).max(1000)).default(50),
  DELIVERY_CONCURRENCY: envNumber(z.number().int().min(1).max(1000)).default(20),
  /** Which workers a worker process runs: `journeys`, `deliveries`, or both. */
  WORKER_ROLES: Roles.default(['journeys', 'deliveries']),
  /**
   * How long a job's lock and a customer's lease last without renewal. A worker that dies is
   * noticed after about this long, and its jobs run elsewhere.
   */
  LOCK_DURATION_MS: envNumber(
    z.number().int().min(TIMING_BOUNDS.lockMs.min).max(TIMING_BOUNDS.lockMs.max),
  ).default(30_000),
  /** How often one worker sweeps for customers whose events wait with no job to apply them. */
  SWEEP_INTERVAL_MS: envNumber(maxTimer(z.number().int().min(TIMING_BOUNDS.sweepIntervalMs.min))).default(
    60_000,
  ),
  /**
   * How many shards the queues are split into, each customer's jobs in one: on a Redis Cluster,
   * so queue operations spread over the masters. The same on every process (see README, On a
   * Redis Cluster, for changing it).
   */
  QUEUE_SHARDS: envNumber(z.number().int().min(1).max(MAX_QUEUE_SHARDS)).default(1),
  /** How long SIGTERM waits for active jobs before leaving them to other workers. */
  SHUTDOWN_DEADLINE_MS: envNumber(maxTimer(z.number().int().min(0))).default(10_000),
  JOURNEYS_DIR: z.string().min(1).default('journeys'),
  TEMPLATES_DIR: z.string().min(1).default('templates'),
  /** SMTP server for email, e.g. smtp://user:pass@smtp.example.com:587. Unset: emails go to OUTBOX_DIR as .eml files. */
  SMTP_URL: z
    .string()
    .superRefine((url, ctx) => {
      // Checked here, so a URL the email adapter cannot use names this variable, never its password.
      const read = parseSmtpUrl(url);
      if (!read.ok) ctx.addIssue({ code: 'custom', message: `${read.problem}: ${read.fix}` });
    })
    .optional(),
  /** Pooled SMTP connections each worker process keeps open. */
  SMTP_MAX_CONNECTIONS: envNumber(z.number().int().min(1).max(100)).default(5),
  /**
   * Messages one SMTP connection sends before it is replaced. nodemailer then pauses its queue for
   * 100 ms, which shows in the latency of busy senders; raise it where the server allows.
   */
  SMTP_MAX_MESSAGES: envNumber(z.number().int().min(1)).default(100),
  /** Checked here, so a sender without an address names this variable, not the email adapter's option. */
  MAIL_FROM: z
    .string()
    .refine((from) => senderDomain(from) !== undefined, {
      message:
        'a sender with an address last, such as "Acme <hello@acme.example>" or hello@acme.example, ' +
        'whose domain is plain letters, digits, dots and dashes (an international domain in punycode, xn--…; ' +
        'no address literal or comment)',
    })
    .default('Chorus Tea <hello@chorus.local>'),
  /** Where emails, SMS and push go when their provider is not configured. */
  OUTBOX_DIR: z.string().min(1).default('outbox'),
  /**
   * The public base URL of the HTTP API; the one-click unsubscribe link points here. Use https in
   * production. Unset: `http://localhost:<PORT>`. At most 150 characters: an email's
   * `List-Unsubscribe` header, this URL and a signed token of up to 780, must stay within the 998
   * characters a header line may have (RFC 5322).
   */
  PUBLIC_URL: z
    .url({ protocol: /^https?$/ })
    .max(150, 'at most 150 characters (it starts every unsubscribe and tracked link)')
    .optional(),
  /** Signs unsubscribe links. Unset: a random one per process (links then break on restart). */
  UNSUBSCRIBE_SECRET: z.string().min(16, 'at least 16 characters').optional(),
  /**
   * Secrets UNSUBSCRIBE_SECRET had before, comma-separated: links already sent (unsubscribe, tracked
   * links and opens, double opt-in) are still taken when signed with one of them. New links use
   * UNSUBSCRIBE_SECRET.
   */
  UNSUBSCRIBE_PREVIOUS_SECRETS: commaList(z.string().min(16, 'each secret at least 16 characters')),
  /**
   * Email marketing needs a grant the customer confirmed through a signed link (double opt-in);
   * a grant stays pending and a `Consent Requested` event carries the link.
   */
  DOUBLE_OPT_IN: z
    .enum(['true', 'false'])
    .default('false')
    .transform((v) => v === 'true'),
  /** Rewrite links in email, SMS, push and in-app into signed click redirects at PUBLIC_URL/t/c/…. */
  TRACK_LINKS: z
    .enum(['true', 'false'])
    .default('true')
    .transform((v) => v === 'true'),
  /**
   * Hosts whose links are the brand's even where only data names them (a product feed's
   * shop.example.com), comma-separated; `*.example.com` for every subdomain. Beside these, a
   * message's CTA host and the hosts written in its templates are; only such links get UTM
   * parameters and are tracked.
   */
  BRAND_LINK_HOSTS: BrandLinkHosts.default([]),
  /**
   * Days an SMS's short link (PUBLIC_URL/t/s/…, which stands for its tracked link in the text)
   * leads on; after that it answers the invalid-link page. 1 to 3650.
   */
  SMS_SHORT_LINK_DAYS: envNumber(z.number().int().min(1).max(3650)).default(DEFAULT_SHORT_LINK_DAYS),
  /** Add a 1×1 open pixel (PUBLIC_URL/t/o/…) to email HTML. */
  TRACK_OPENS: z
    .enum(['true', 'false'])
    .default('true')
    .transform((v) => v === 'true'),
  /** The BCP 47 locale of customers without a `locale` trait: dates and amounts in messages. */
  DEFAULT_LOCALE: z
    .string()
    .transform((value, ctx) => {
      try {
        // One tag in, one out: the canonical form (`en-us` becomes `en-US`).
        return Intl.getCanonicalLocales(value)[0] ?? value;
      } catch {
        ctx.addIssue({
          code: 'custom',
          message: `"${value.slice(0, 60)}" is not a BCP 47 locale such as en-US or de-DE`,
        });
        return z.NEVER;
      }
    })
    .default('en-US'),
  /**
   * Finished journey instances kept per customer and journey; older ones are deleted when another
   * finishes (the journey's counts keep them). At least 1.
   */
  KEEP_FINISHED_INSTANCES: envNumber(z.number().int().min(1)).default(KEEP_FINISHED_DEFAULT),
  /** The IANA zone of customers without a `timezone` trait: dates, quiet hours, local-time waits. */
  DEFAULT_TIMEZONE: z
    .string()
    .refine(isTimeZone, 'an IANA time zone such as Europe/Berlin or UTC')
    .default('UTC'),
  /**
   * Caps per customer across all journeys, `<scope>:<max>/<duration>` separated by commas; a scope
   * is a topic, a channel or `<topic>.<channel>`, e.g. `marketing:3/24h,marketing.sms:1/1d`.
   */
  FREQUENCY_CAPS: FrequencyCapRules.default([]),
  /** Marketing sends wait out these hours of the customer's local time, e.g. `21:00-08:00`. Unset: none. */
  QUIET_HOURS: QuietHoursWindow.optional(),
  /** How long an in-app message is shown in the customer's inbox after it is sent, e.g. `7d`. */
  IN_APP_TTL: PositiveDuration.default(IN_APP_TTL_MS),
  /**
   * Signs in-app tokens (createInAppToken): an app sends one to read and update its customer's
   * inbox without the API key. Give it to the app's backend, which makes the tokens; it opens
   * nothing else. Unset: the in-app routes need the API key.
   */
  IN_APP_TOKEN_SECRET: z.string().min(16, 'at least 16 characters').optional(),
  /** Secrets IN_APP_TOKEN_SECRET had before, comma-separated: tokens signed with one are still taken. */
  IN_APP_TOKEN_PREVIOUS_SECRETS: commaList(z.string().min(16, 'each secret at least 16 characters')),
  /**
   * Origins whose pages may call the in-app routes from a browser (CORS), comma-separated, each
   * as the browser sends it: `https://app.example.com`, no path. Unset: none.
   */
  IN_APP_CORS_ORIGINS: commaList(
    z.string().refine((origin) => originOf(origin) === origin, {
      message:
        'an origin such as https://app.example.com: scheme, host and port only, no path or trailing slash',
    }),
  ),
  /** Twilio-compatible SMS API. All three of SID, token and SMS_FROM, or none (SMS to the outbox). */
  TWILIO_BASE_URL: z.url().default('https://api.twilio.com'),
  TWILIO_ACCOUNT_SID: z.string().min(1).optional(),
  TWILIO_AUTH_TOKEN: z.string().min(1).optional(),
  SMS_FROM: z.string().min(1).optional(),
  /**
   * FCM push: a service account key (a file, or its JSON in the variable), or a fixed access
   * token with FCM_PROJECT_ID; none sends push to the outbox. The key's file is read at start-up.
   */
  FCM_BASE_URL: z.url().default('https://fcm.googleapis.com'),
  FCM_SERVICE_ACCOUNT_FILE: z
    .string()
    .min(1)
    .transform((path, ctx) => {
      let text: string;
      try {
        text = readFileSync(path, 'utf8');
      } catch (error) {
        ctx.addIssue({ code: 'custom', message: `cannot read ${path}: ${(error as Error).message}` });
        return z.NEVER;
      }
      return serviceAccountFrom(text, ctx);
    })
    .optional(),
  FCM_SERVICE_ACCOUNT_JSON: z.string().min(1).transform(serviceAccountFrom).optional(),
  /** Default: the service account's project_id. */
  FCM_PROJECT_ID: z.string().min(1).optional(),
  /** A fixed OAuth 2 token: it lasts an hour, so for trials only. */
  FCM_ACCESS_TOKEN: z.string().min(1).optional(),
  /**
   * Standard Webhooks secrets (`whsec_<base64>`) that sign webhook deliveries, space-separated:
   * during a rotation the new one and the old, and every request carries both signatures.
   */
  WEBHOOK_SECRET: z
    .string()
    .transform((value) => value.split(/\s+/).filter(Boolean))
    .pipe(
      z
        .array(
          z
            .string()
            .refine(isWebhookSecret, 'whsec_ followed by base64 (a length that is a multiple of four)'),
        )
        .min(1, 'one secret or more, whsec_…, space-separated'),
    )
    .optional(),
  /** Allow webhook targets on loopback and private networks (tests, local development). */
  WEBHOOK_ALLOW_PRIVATE: z
    .enum(['true', 'false'])
    .default('false')
    .transform((v) => v === 'true'),
  DKIM_DOMAIN: z.string().min(1).optional(),
  DKIM_SELECTOR: z.string().min(1).optional(),
  /** PEM text; on one line, `\n` where its line breaks were (as a .env file or a one-line secret holds it). */
  DKIM_PRIVATE_KEY: z
    .string()
    .min(1)
    .transform((text, ctx) => {
      const pem = text.includes('\n') ? text : text.replaceAll('\\n', '\n');
      try {
        createPrivateKey(pem);
      } catch {
        // Said without the text, which is the key.
        ctx.addIssue({
          code: 'custom',
          message:
            'not a private key: give the PEM text of an RSA or Ed25519 key (-----BEGIN PRIVATE KEY-----…), ' +
            'on one line with \\n where its line breaks were if need be',
        });
        return z.NEVER;
      }
      return pem;
    })
    .optional(),
  /**
   * The longest wait between two attempts of a send its provider deferred (a 4xx, no answer).
   * Waits grow from a second, with jitter, doubling or faster so that the wait before the tenth
   * and last attempt is this one; a send is given up after that attempt: 5 to 10 minutes after
   * the first with the default, 47 to 94 with an hour.
   */
  DELIVERY_RETRY_MAX_MS: envNumber(z.number().int().min(1000).max(3_600_000)).default(300_000),
  /** Per-channel send rate, as `<count>/<duration>`, e.g. `10/1s`. Unset: no limit. */
  RATE_LIMIT_EMAIL: RateLimit.optional(),
  RATE_LIMIT_SMS: RateLimit.optional(),
  RATE_LIMIT_PUSH: RateLimit.optional(),
  RATE_LIMIT_IN_APP: RateLimit.optional(),
  RATE_LIMIT_WEBHOOK: RateLimit.optional(),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** `production` refuses to start without API_KEY, DASHBOARD_PASSWORD and UNSUBSCRIBE_SECRET. */
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  /** Where the HTTP API listens. Use HOST=0.0.0.0 in a container. */
  PORT: envNumber(z.number().int().min(0).max(65_535)).default(3000),
  HOST: z.string().min(1).default('127.0.0.1'),
  /** Keys for `/v1/*`, comma-separated (several during a rotation). Unset in development: one is made and printed. */
  API_KEY: z
    .string()
    .transform(splitList)
    .pipe(
      z
        .array(
          z
            .string()
            .min(16, 'each key at least 16 characters')
            // A key is presented as `Bearer <key>`, read up to the first space, or as the user
            // name of basic auth, read up to the first colon: a key holding either never matches.
            .regex(/^[^\s:]+$/, 'each key without spaces or colons, which no request can present'),
        )
        .min(1),
    )
    .optional(),
  /** Basic auth for the dashboard at /admin/queues. Password unset in development: one is made and printed. */
  DASHBOARD_USER: z
    .string()
    .min(1)
    .regex(/^[^:]+$/, 'no colon: basic auth ends the user name at the first one')
    .default('admin'),
  DASHBOARD_PASSWORD: z.string().min(8, 'at least 8 characters').optional(),
  /** Let the dashboard retry, promote and remove jobs; read-only otherwise. */
  DASHBOARD_WRITE: z
    .enum(['true', 'false'])
    .default('false')
    .transform((v) => v === 'true'),
  /** Requests per API key per window on /v1/*, as `<count>/<duration>`. */
  API_RATE_LIMIT: RateLimit.default({
    max: DEFAULT_API_RATE_LIMIT.max,
    duration: DEFAULT_API_RATE_LIMIT.windowMs,
  }),
  /** Largest request body accepted (bytes); larger ones get 413. */
  BODY_LIMIT: envNumber(
    z
      .number()
      .int()
      .min(1024)
      .max(100 * 1024 * 1024),
  ).default(1024 * 1024),
  /**
   * Largest ingest call (a track, an identify, each call of a batch, a trigger) in bytes as JSON;
   * larger ones are refused with 400 naming them. 32 KB, as Segment's API takes.
   */
  MAX_CALL_BYTES: envNumber(z.number().int().min(CALL_BYTES_BOUNDS.min).max(CALL_BYTES_BOUNDS.max)).default(
    DEFAULT_MAX_CALL_BYTES,
  ),
  /**
   * How long a client may take to send a whole request, headers and body; a slower one (a stalled
   * upload, a slowloris) gets 408 and its connection is closed. 0: no limit.
   */
  REQUEST_TIMEOUT_MS: envNumber(maxTimer(z.number().int().min(0))).default(DEFAULT_REQUEST_TIMEOUT_MS),
  /**
   * How long an API request waits for an answer from Redis before it gets 503: a Redis cut off by
   * a network partition keeps its connection up, and nothing else would end the wait.
   */
  API_REDIS_TIMEOUT_MS: envNumber(maxTimer(z.number().int().min(1))).default(DEFAULT_API_REDIS_TIMEOUT_MS),
  /**
   * Secrets of signed inbound webhook sources: `<source>=<whsec_…>[ <whsec_…>]`, sources separated
   * by commas; several secrets for one source during a rotation.
   */
  WEBHOOK_SOURCE_SECRETS: z
    .string()
    .transform((value, ctx) => {
      const secrets: Record<string, string[]> = {};
      const entries = splitList(value);
      for (const [index, entry] of entries.entries()) {
        const problem = webhookSourceEntryProblem(entry);
        if (problem !== undefined) {
          // Said without the entry itself: it holds a secret, and this message goes to the logs.
          ctx.addIssue({ code: 'custom', message: `entry ${index + 1}: ${problem}` });
          return z.NEVER;
        }
        // The first `=` ends the source: base64 secrets end in `=` padding themselves.
        const split = entry.indexOf('=');
        secrets[entry.slice(0, split)] = entry
          .slice(split + 1)
          .split(/\s+/)
          .filter(Boolean);
      }
      return secrets;
    })
    .default({}),
});

/**
 * What is wrong with one `<source>=whsec_…[ whsec_…]` entry of WEBHOOK_SOURCE_SECRETS, in words
 * that repeat no secret: a source name is repeated only when it could not be one.
 */
function webhookSourceEntryProblem(entry: string): string | undefined {
  const shape = 'give <source>=whsec_… [whsec_…]';
  const split = entry.indexOf('=');
  if (split === -1) return `no "=": ${shape}`;
  const source = entry.slice(0, split);
  if (!/^[a-z0-9][a-z0-9-]{0,39}$/.test(source)) {
    const shown = /^[A-Za-z0-9_-]{1,40}$/.test(source) && !source.startsWith('whsec_') ? ` "${source}"` : '';
    return `the source${shown} is not lower-case letters, digits and - (at most 40, the first no -): ${shape}`;
  }
  const keys = entry
    .slice(split + 1)
    .split(/\s+/)
    .filter(Boolean);
  if (keys.length === 0) return `no secret for "${source}": ${shape}`;
  // Every request to the source would otherwise fail with a 500 when its secrets are read.
  const bad = keys.findIndex((key) => !isWebhookSecret(key));
  if (bad !== -1)
    return (
      `secret ${bad + 1} of the source "${source}" is not whsec_ followed by base64 (a length that is ` +
      'a multiple of four): use the secret exactly as its sender issued it'
    );
  return undefined;
}

/** Settings that only work together: all of a group, or none of it (then the outbox is used). */
const GROUPS: ReadonlyArray<{ what: string; keys: ReadonlyArray<keyof z.infer<typeof EnvShape>> }> = [
  { what: 'Twilio SMS', keys: ['TWILIO_ACCOUNT_SID', 'TWILIO_AUTH_TOKEN', 'SMS_FROM'] },
  { what: 'DKIM signing', keys: ['DKIM_DOMAIN', 'DKIM_SELECTOR', 'DKIM_PRIVATE_KEY'] },
];

/** Every environment variable the engine reads, parsed once at start-up. */
export const EnvConfig = EnvShape.superRefine((config, ctx) => {
  checkFcm(config, ctx);
  if (config.REDIS_URL !== undefined && config.REDIS_CLUSTER_NODES !== undefined)
    ctx.addIssue({
      code: 'custom',
      path: ['REDIS_CLUSTER_NODES'],
      message:
        'REDIS_URL is set too: set REDIS_URL for one Redis or REDIS_CLUSTER_NODES for a Cluster, not both',
    });
  for (const group of GROUPS) {
    const set = group.keys.filter((key) => config[key] !== undefined);
    if (set.length === 0 || set.length === group.keys.length) continue;
    for (const key of group.keys.filter((k) => !set.includes(k))) {
      ctx.addIssue({
        code: 'custom',
        path: [key],
        message: `${group.what} is half configured (${set.join(', ')} set): set ${key} too, or unset the group`,
      });
    }
  }
});
export type EnvConfig = z.infer<typeof EnvConfig>;

/** FCM takes one credential: a service account key, or a fixed token with its project. */
function checkFcm(config: z.infer<typeof EnvShape>, ctx: z.RefinementCtx): void {
  const credentials = (
    ['FCM_SERVICE_ACCOUNT_FILE', 'FCM_SERVICE_ACCOUNT_JSON', 'FCM_ACCESS_TOKEN'] as const
  ).filter((key) => config[key] !== undefined);
  const account = config.FCM_SERVICE_ACCOUNT_FILE ?? config.FCM_SERVICE_ACCOUNT_JSON;
  for (const extra of credentials.slice(1)) {
    ctx.addIssue({
      code: 'custom',
      path: [extra],
      message: `FCM push takes one credential but ${credentials.join(', ')} are set: unset ${extra}`,
    });
  }
  if (credentials.length === 0 && config.FCM_PROJECT_ID !== undefined) {
    ctx.addIssue({
      code: 'custom',
      path: ['FCM_SERVICE_ACCOUNT_FILE'],
      message:
        'FCM push is half configured (FCM_PROJECT_ID set): set FCM_SERVICE_ACCOUNT_FILE too, or unset the group',
    });
  }
  const tokenOnly = credentials.length === 1 && config.FCM_ACCESS_TOKEN !== undefined;
  if ((tokenOnly || account) && !config.FCM_PROJECT_ID && !account?.project_id) {
    ctx.addIssue({
      code: 'custom',
      path: ['FCM_PROJECT_ID'],
      message: tokenOnly
        ? 'FCM push is half configured (FCM_ACCESS_TOKEN set): set FCM_PROJECT_ID too, or unset the group'
        : 'the service account key has no project_id: set FCM_PROJECT_ID',
    });
  }
}

export class ConfigError extends ChorusError {
  constructor(readonly variables: ReadonlyArray<{ name: string; message: string }>) {
    super(
      'CHORUS_CONFIG_INVALID',
      `Invalid configuration: ${variables.map((v) => `${v.name}: ${v.message}`).join('; ')}. ` +
        'To fix: correct or unset the named environment variables (see the README, Configuration).',
    );
  }
}

/** The name of one environment variable the engine reads. */
export type EnvVariable = keyof z.infer<typeof EnvShape>;

/**
 * Variables read as unset when set but empty (or only spaces): a `.env` template's `REDIS_URL=`,
 * or a list left with no entries, which is its default. Every other variable refuses an empty value.
 */
const EMPTY_READS_AS_UNSET: ReadonlySet<EnvVariable> = new Set<EnvVariable>([
  'REDIS_URL',
  'REDIS_CLUSTER_NODES',
  'SMTP_URL',
  'FREQUENCY_CAPS',
  'UNSUBSCRIBE_PREVIOUS_SECRETS',
  'IN_APP_TOKEN_PREVIOUS_SECRETS',
  'IN_APP_CORS_ORIGINS',
  'WEBHOOK_SOURCE_SECRETS',
  'BRAND_LINK_HOSTS',
]);

/** The schema under `.optional()` and `.default()`. */
function innerSchema(schema: z.ZodType): z.ZodType {
  return schema instanceof z.ZodOptional || schema instanceof z.ZodDefault
    ? innerSchema(schema.unwrap() as z.ZodType)
    : schema;
}

/** What a variable set but empty is told, the same for all. */
function emptyMessage(key: EnvVariable): string {
  const what = numberSchemas.has(innerSchema(EnvShape.shape[key])) ? 'a number' : 'a value';
  return `set but empty: give ${what}, or unset it for the default`;
}

/**
 * Parses the environment once; a bad value stops start-up with the variable's name. With `only`,
 * just those variables are read and the rest take their defaults: a tool that needs a few of them
 * (the CLI's `graph`, say) is not stopped by a bad value it never uses. A variable set but empty
 * is refused, each the same way, but for those of EMPTY_READS_AS_UNSET.
 */
export function loadConfig(
  env: Record<string, string | undefined> = process.env,
  only?: readonly EnvVariable[],
): Readonly<EnvConfig> {
  const read = (key: string) => only === undefined || (only as readonly string[]).includes(key);
  const empty: Array<{ name: string; message: string }> = [];
  const known: Record<string, string | undefined> = {};
  for (const key of Object.keys(EnvShape.shape) as EnvVariable[]) {
    const value = read(key) ? env[key] : undefined;
    if (value !== undefined && value.trim() === '') {
      // Parsed as unset either way, so the rest of the configuration is still checked.
      if (!EMPTY_READS_AS_UNSET.has(key)) empty.push({ name: key, message: emptyMessage(key) });
      known[key] = undefined;
    } else known[key] = value;
  }
  const parsed = EnvConfig.safeParse(known);
  const problems = [
    ...empty,
    ...(parsed.success
      ? []
      : parsed.error.issues.map((issue) => ({ name: String(issue.path[0]), message: issue.message }))),
  ];
  if (!parsed.success || problems.length > 0) throw new ConfigError(problems);
  return Object.freeze(parsed.data);
}

/**
 * The Redis the configuration names: the Cluster of `REDIS_CLUSTER_NODES`, else `REDIS_URL`,
 * else `fallbackUrl` (the local default, or a private server `resolveRedis` started).
 */
export function redisTargetOf(
  config: Pick<EnvConfig, 'REDIS_URL' | 'REDIS_CLUSTER_NODES'>,
  fallbackUrl = 'redis://127.0.0.1:6379',
): RedisTarget {
  return config.REDIS_CLUSTER_NODES ?? { kind: 'single', url: config.REDIS_URL ?? fallbackUrl };
}
