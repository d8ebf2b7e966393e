import { createHmac } from 'node:crypto';
import type { RenderedMessage } from '../messages/rendered-message.js';
import { smsSegments } from '../messages/sms-segments.js';
import type { RedisConnection } from '../redis/connection.js';
import { customerKeys } from '../store/customer-keys.js';

/**
 * Short links of SMS: a tracked link `<api>/t/c/<token>` carries its whole claim (some 250
 * characters and more), which turns a one-part text into three or four, each paid for. In an
 * SMS it becomes `<api>/t/s/<id>` instead, the id a 12-character name of the token stored in Redis.
 */

/** Characters of a short link's id: 62^12, some 71 bits, so ids of different tokens do not meet. */
export const SHORT_LINK_ID_LENGTH = 12;

/** How long a stored short link leads on, unless configured (SMS_SHORT_LINK_DAYS). */
export const DEFAULT_SHORT_LINK_DAYS = 365;

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
const SHORT_ID = new RegExp(`^[0-9A-Za-z]{${SHORT_LINK_ID_LENGTH}}$`);

/**
 * The id of a token's short link: a keyed hash of the token, so a retried send (same operation,
 * same URL, same token) gets the same link and writes the same key, never a second one.
 *
 * @example
 * shortLinkId(secret, token); // 'h3X9aK2pQ0vZ'
 */
export function shortLinkId(secret: string, token: string): string {
  const digest = createHmac('sha256', secret).update('chorus short link v1.').update(token).digest();
  let value = BigInt(`0x${digest.subarray(0, 16).toString('hex')}`);
  let id = '';
  for (let i = 0; i < SHORT_LINK_ID_LENGTH; i++) {
    id += BASE62[Number(value % 62n)];
    value /= 62n;
  }
  return id;
}

/** Whether a string has the shape of a short link's id (anything else is answered without a lookup). */
export function isShortLinkId(id: string): boolean {
  return SHORT_ID.test(id);
}

/** The short link that redirects to the URL of the token stored under `id`. */
export function shortUrl(publicUrl: string, id: string): string {
  return `${publicUrl.replace(/\/+$/, '')}/t/s/${id}`;
}

/**
 * Where a short link's token is stored. The click knows the id alone, so the key is named by it,
 * its own hash tag spreading links over a Cluster's slots; the customer's index
 * (`customerKeys().shortLinks`) names it for erasure.
 */
export function shortLinkKey(prefix: string, id: string): string {
  return `${prefix}:sl:{${id}}`;
}

/** A link of an SMS shortened: the short URL in the body, and what it stands for. */
export interface ShortLink {
  id: string;
  /** The tracking token the id names. */
  token: string;
  short: string;
  /** The tracked link it replaces, `<api>/t/c/<token>`. */
  long: string;
}

/**
 * Replaces every tracked link `<baseUrl>/t/c/<token>` of an SMS body with its short link. Pure:
 * the links must be stored ({@link storeShortLinks}) before the text leaves.
 */
export function shortenTrackedLinks(
  body: string,
  tracking: { baseUrl: string; secret: string },
): { body: string; links: ShortLink[] } {
  const api = tracking.baseUrl.replace(/\/+$/, '');
  const escaped = api.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  // A token is base64url, a dot, base64url: it ends where a text link ends.
  const tracked = new RegExp(`${escaped}/t/c/([A-Za-z0-9_-]+\\.[A-Za-z0-9_-]+)`, 'g');
  const links = new Map<string, ShortLink>();
  const shortened = body.replace(tracked, (long, token: string) => {
    const id = shortLinkId(tracking.secret, token);
    const link = { id, token, short: shortUrl(api, id), long };
    links.set(id, link);
    return link.short;
  });
  return { body: shortened, links: [...links.values()] };
}

export interface StoreShortLinksOptions {
  /** Read once by the caller. */
  now: number;
  /** How long the links lead on. */
  ttlMs: number;
}

/**
 * Stores the short links of one customer's send, before the text goes to the provider: first in
 * the customer's index (which erasure reads), then each link's token, written only if its key is
 * new (SET NX), so a retry keeps the link, and the lifetime, of the first run. Returns the links
 * whose id already names another token (never seen in practice at 71 bits): the caller sends
 * those long rather than lead to someone else's page.
 */
export async function storeShortLinks(
  redis: RedisConnection,
  prefix: string,
  customerId: string,
  links: readonly ShortLink[],
  options: StoreShortLinksOptions,
): Promise<ShortLink[]> {
  if (links.length === 0) return [];
  const { now, ttlMs } = options;
  const expires = now + ttlMs;
  const index = customerKeys(prefix, customerId).shortLinks;
  // Indexed first: a crash in between leaves an index entry naming no key, never a key erasure misses.
  await redis
    .multi()
    .zadd(index, ...links.flatMap((link) => [expires, link.id]))
    .zremrangebyscore(index, '-inf', now)
    .pexpire(index, ttlMs)
    .exec();
  const taken: ShortLink[] = [];
  for (const link of links) {
    const key = shortLinkKey(prefix, link.id);
    const value = `${expires} ${link.token}`;
    if ((await redis.set(key, value, 'PX', ttlMs, 'NX')) === 'OK') continue;
    const stored = await redis.get(key);
    if (stored === null) {
      // Expired between the two calls: written now.
      await redis.set(key, value, 'PX', ttlMs);
    } else if (tokenOf(stored) !== link.token) taken.push(link);
  }
  return taken;
}

function tokenOf(value: string): string {
  return value.slice(value.indexOf(' ') + 1);
}

/**
 * The tracking token a short link stands for, or `undefined` when none is stored under the id
 * (never was, erased, or older than its lifetime by `now`).
 */
export async function resolveShortLink(
  redis: RedisConnection,
  prefix: string,
  id: string,
  now: number,
): Promise<string | undefined> {
  if (!isShortLinkId(id)) return undefined;
  const stored = await redis.get(shortLinkKey(prefix, id));
  if (stored === null) return undefined;
  const space = stored.indexOf(' ');
  // Redis drops the key at its lifetime; the stored expiry answers to the engine's clock as well.
  if (space === -1 || Number(stored.slice(0, space)) <= now) return undefined;
  return stored.slice(space + 1);
}

/**
 * Deletes the short links a customer's index (`customerKeys().shortLinks`) names. Each key has
 * its own slot, so each is deleted on its own on a Redis Cluster. Returns how many went.
 */
export async function eraseShortLinks(
  redis: RedisConnection,
  prefix: string,
  index: string,
): Promise<number> {
  const ids = await redis.zrange(index, 0, -1);
  let deleted = 0;
  for (let i = 0; i < ids.length; i += 100) {
    const batch = ids.slice(i, i + 100).map((id) => redis.unlink(shortLinkKey(prefix, id)));
    for (const count of await Promise.all(batch)) deleted += count;
  }
  return deleted;
}

/**
 * An SMS with its tracked links shortened and stored (see {@link storeShortLinks}), its segments
 * counted again; any other message as it is. Called after `trackRendered` and before the provider:
 * a text that leaves holds only links that resolve.
 *
 * @example
 * const sms = await shortenSmsLinks(redis, prefix, customerId, trackRendered(rendered, send, tracking, links), tracking, now);
 */
export async function shortenSmsLinks(
  redis: RedisConnection,
  prefix: string,
  customerId: string,
  rendered: RenderedMessage,
  tracking: { baseUrl: string; secret: string; shortLinkDays?: number },
  now: number,
): Promise<RenderedMessage> {
  if (rendered.channel !== 'sms') return rendered;
  const { body, links } = shortenTrackedLinks(rendered.body, tracking);
  if (links.length === 0) return rendered;
  const ttlMs = (tracking.shortLinkDays ?? DEFAULT_SHORT_LINK_DAYS) * 86_400_000;
  const taken = await storeShortLinks(redis, prefix, customerId, links, { now, ttlMs });
  let sent = body;
  for (const link of taken) sent = sent.replaceAll(link.short, link.long);
  return { ...rendered, body: sent, ...smsSegments(sent) };
}
