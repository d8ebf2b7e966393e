import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { ChannelConfigError, WebhookVerificationError } from './errors.js';

/**
 * Standard Webhooks (standardwebhooks.com) signing: HMAC-SHA256 over `${id}.${timestamp}.${body}`
 * with the secret's key bytes, sent as `webhook-signature: v1,<base64>`; several signatures,
 * space-separated, let a receiver rotate keys.
 */

/** The three headers of a signed webhook. */
export type WebhookHeaders = {
  'webhook-id': string;
  'webhook-timestamp': string;
  'webhook-signature': string;
};

/** Request headers as fetch (`Headers`) or Node (`IncomingHttpHeaders`) hold them. */
export type HeaderSource =
  { get(name: string): string | null } | Record<string, string | string[] | undefined>;

export interface VerifyWebhookOptions {
  /** How far the timestamp may be from `now`, either way; default 300 s. */
  toleranceSeconds?: number;
  /** Epoch milliseconds; default `Date.now()`. */
  now?: number;
}

/** A new random secret in the `whsec_<base64>` form (24 key bytes). */
export function generateWebhookSecret(): string {
  return `whsec_${randomBytes(24).toString('base64')}`;
}

/** Standard base64 as secrets are issued: whole, padded groups of four. */
const isBase64 = (text: string) => /^[A-Za-z0-9+/]+={0,2}$/.test(text) && text.length % 4 === 0;

/**
 * Whether `secret` is `whsec_` followed by base64, as secrets are issued and configured: what
 * {@link webhookKey} takes, checked when the environment is read rather than on each request.
 */
export function isWebhookSecret(secret: string): boolean {
  return secret.startsWith('whsec_') && isBase64(secret.slice('whsec_'.length));
}

/** The key bytes of a `whsec_<base64>` secret (the prefix is optional), or a config error. */
export function webhookKey(secret: string): Buffer {
  const encoded = secret.startsWith('whsec_') ? secret.slice('whsec_'.length) : secret;
  if (!isBase64(encoded)) {
    throw new ChannelConfigError(
      'secret',
      'The webhook secret is not `whsec_` followed by base64. ' +
        'To fix: use the secret as issued, or make one with generateWebhookSecret().',
    );
  }
  return Buffer.from(encoded, 'base64');
}

/**
 * The `webhook-signature` value for one secret: `v1,<base64 HMAC-SHA256>`.
 *
 * @example
 * ```ts
 * const signature = signWebhook('whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', 'msg_1', 1_700_000_000, '{"a":1}');
 * ```
 */
export function signWebhook(
  secret: string,
  id: string,
  timestamp: number,
  body: string | Uint8Array,
): string {
  return `v1,${digest(webhookKey(secret), id, timestamp, body).toString('base64')}`;
}

/**
 * The headers for a webhook signed with every given secret (old and new during a rotation), so
 * a receiver holding either key accepts it.
 */
export function webhookHeaders(
  secrets: string | readonly string[],
  id: string,
  timestamp: number,
  body: string | Uint8Array,
): WebhookHeaders {
  const list = typeof secrets === 'string' ? [secrets] : secrets;
  return {
    'webhook-id': id,
    'webhook-timestamp': String(timestamp),
    'webhook-signature': list.map((secret) => signWebhook(secret, id, timestamp, body)).join(' '),
  };
}

/**
 * Checks a received webhook against one secret or several (a receiver mid-rotation): the
 * timestamp must be within the tolerance of `now` and at least one `v1` signature must match the
 * raw body. The headers are read as Standard Webhooks names them or, when those are absent, as
 * Svix does (`svix-id`, `svix-timestamp`, `svix-signature`), the same scheme. Returns the message
 * id (use it to drop duplicates) and timestamp; throws `WebhookVerificationError` otherwise.
 *
 * @example
 * ```ts
 * const { id } = verifyWebhook(process.env.WEBHOOK_SECRET!, request.headers, rawBody);
 * ```
 */
export function verifyWebhook(
  secrets: string | readonly string[],
  headers: HeaderSource,
  body: string | Uint8Array,
  options: VerifyWebhookOptions = {},
): { id: string; timestamp: number } {
  const keys = (typeof secrets === 'string' ? [secrets] : secrets).map(webhookKey);
  const signed = signedHeaders(headers);
  if (!signed) {
    const missing = HEADER_NAMES.webhook.filter((name) => !header(headers, name));
    throw new WebhookVerificationError(
      'missing-header',
      `The webhook request lacks ${missing.join(', ')} (nor has it svix-id, svix-timestamp and ` +
        'svix-signature, their Svix names). To fix: sign requests per Standard Webhooks.',
    );
  }
  const { id, stamp, signatures, prefix } = signed;
  if (!/^\d{1,12}$/.test(stamp)) {
    throw new WebhookVerificationError(
      'invalid-timestamp',
      `The ${prefix}-timestamp "${stamp.slice(0, 40)}" is not whole seconds since the epoch. ` +
        'To fix: send Unix time in seconds.',
    );
  }
  const timestamp = Number(stamp);
  const now = Math.floor((options.now ?? Date.now()) / 1000);
  const tolerance = options.toleranceSeconds ?? 300;
  if (now - timestamp > tolerance || timestamp - now > tolerance) {
    const old = timestamp < now;
    throw new WebhookVerificationError(
      old ? 'timestamp-too-old' : 'timestamp-too-new',
      `The webhook timestamp is ${Math.abs(now - timestamp)} s ${old ? 'old' : 'in the future'}, beyond the ` +
        `${tolerance} s tolerance (a replay, or a clock out of sync). To fix: sign each request when it is ` +
        'sent and keep both clocks on NTP.',
    );
  }
  const candidates = signatures
    .split(' ')
    .filter((entry) => entry.startsWith('v1,'))
    .map((entry) => Buffer.from(entry.slice(3), 'base64'));
  for (const key of keys) {
    const expected = digest(key, id, timestamp, body);
    for (const candidate of candidates) {
      if (candidate.length === expected.length && timingSafeEqual(candidate, expected))
        return { id, timestamp };
    }
  }
  throw new WebhookVerificationError(
    'no-matching-signature',
    'No webhook-signature matches the body with the secret: the body was changed, or the sender uses ' +
      'another secret. To fix: verify the raw body bytes as received (before any JSON parsing) with the ' +
      "sender's current secret.",
  );
}

function digest(key: Buffer, id: string, timestamp: number, body: string | Uint8Array): Buffer {
  return createHmac('sha256', key).update(`${id}.${timestamp}.`).update(body).digest();
}

/**
 * The names of the three headers: Standard Webhooks', and Svix's, which Svix-powered senders
 * (Clerk, Resend and others) use for the same scheme and which Svix's own libraries accept.
 */
const HEADER_NAMES = {
  webhook: ['webhook-id', 'webhook-timestamp', 'webhook-signature'],
  svix: ['svix-id', 'svix-timestamp', 'svix-signature'],
} as const;

/** The id, timestamp and signatures of the first set of names the request carries in full. */
function signedHeaders(
  headers: HeaderSource,
): { id: string; stamp: string; signatures: string; prefix: keyof typeof HEADER_NAMES } | undefined {
  for (const prefix of ['webhook', 'svix'] as const) {
    const [id, stamp, signatures] = HEADER_NAMES[prefix].map((name) => header(headers, name));
    if (id && stamp && signatures) return { id, stamp, signatures, prefix };
  }
  return undefined;
}

function header(headers: HeaderSource, name: string): string | undefined {
  if (typeof headers.get === 'function') return headers.get(name) ?? undefined;
  const record = headers as Record<string, string | string[] | undefined>;
  const key = Object.keys(record).find((candidate) => candidate.toLowerCase() === name);
  const value = key === undefined ? undefined : record[key];
  return Array.isArray(value) ? value.join(' ') : value;
}
