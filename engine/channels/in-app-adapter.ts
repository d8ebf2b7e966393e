import type { RedisConnection } from '../redis/connection.js';
import { systemClock, type Clock } from '../clock.js';
import { customerToken } from '../runtime/ids.js';
import { customerKeys } from '../store/customer-keys.js';
import { LuaScript } from '../store/lua-script.js';
import type { ChannelAdapter, DeliveryResult } from './channel-adapter.js';
import { renderedFor } from './deliverable.js';
import { ChannelConfigError } from './errors.js';
import { describeError } from './http-result.js';

/** One message in a customer's in-app inbox. */
export interface InAppMessage {
  /** The operation id of the send. */
  id: string;
  title: string;
  body: string;
  cta: { label: string; url: string };
  journey: string;
  message: string;
  createdAt: number;
  /** When it leaves the inbox (epoch ms); `null` for a message stored before messages expired. */
  expiresAt: number | null;
  readAt: number | null;
}

/** How long an in-app message is shown by default: 30 days, the longest Braze keeps a Content Card. */
export const IN_APP_TTL_MS = 30 * 86_400_000;

export interface InAppAdapterOptions {
  redis: RedisConnection;
  /** The engine's key prefix. */
  prefix: string;
  /** Messages kept per customer, newest first; older ones are dropped. Default 100. */
  maxMessages?: number;
  /**
   * How long a message is shown after it is stored, in ms; the inbox leaves it out after that.
   * Default {@link IN_APP_TTL_MS}, 30 days: an offer sent for a week is not shown for months.
   * The inbox's keys expire with its newest message, so Redis drops an inbox nothing is shown from.
   */
  ttlMs?: number;
  /** Stamps `createdAt`; default the system clock. */
  clock?: Clock;
}

/**
 * A customer's inbox keys, in the customer's hash tag (see `customerKeys`) so the scripts below
 * touch one Cluster slot. `items` maps id → message JSON; `order` lists ids, newest first.
 */
export function inAppKeys(prefix: string, customerId: string): { items: string; order: string } {
  const base = `${prefix}:c:{${customerToken(customerId)}}:inapp`;
  return { items: base, order: `${base}:order` };
}

// HSETNX makes a retried send a no-op; the trim drops the oldest beyond the cap from both keys.
// KEYS[3], the send's operation, in the same slot: an erasure of the customer ends it (marked
// `erased`) before deleting their keys, and a send still running then must not bring the inbox
// back with the message in it. Both keys live as long as the message just stored (ARGV[4], ms),
// never less than they already do: once the newest message has expired nothing in the inbox is
// shown any more, and a customer who stopped coming back no longer keeps it for good.
const storeMessage = new LuaScript(`
if redis.call('HEXISTS', KEYS[3], 'erased') == 1 then return 2 end
if redis.call('HSETNX', KEYS[1], ARGV[1], ARGV[2]) == 0 then return 0 end
redis.call('LPUSH', KEYS[2], ARGV[1])
local ttl = tonumber(ARGV[4])
for i = 1, 2 do
  if redis.call('PTTL', KEYS[i]) < ttl then redis.call('PEXPIRE', KEYS[i], ARGV[4]) end
end
local max = tonumber(ARGV[3])
local extra = redis.call('LLEN', KEYS[2]) - max
if extra > 0 then
  -- One HDEL per id: unpack() of thousands (after maxMessages was lowered) overflows Lua's stack.
  for _, id in ipairs(redis.call('LRANGE', KEYS[2], max, -1)) do redis.call('HDEL', KEYS[1], id) end
  redis.call('LTRIM', KEYS[2], 0, max - 1)
end
return 1
`);

// A dismissed message is replaced by this marker and the time, not deleted: its id keeps its
// place in the inbox, so a repeated send of the same operation (HSETNX) cannot bring it back,
// and it leaves with the cap as the message would have. No message JSON starts this way.
const DISMISSED = '{"dismissedAt":';

const dismiss = new LuaScript(`
local json = redis.call('HGET', KEYS[1], ARGV[1])
if not json or string.sub(json, 1, ${DISMISSED.length}) == '${DISMISSED}' then return 0 end
redis.call('HSET', KEYS[1], ARGV[1], '${DISMISSED}' .. ARGV[2] .. '}')
return 1
`);

// Messages are stored with "readAt":null as their last member, so the JSON ends in exactly
// `"readAt":null}` until read. A string value cannot end the document, so this plain (non-pattern)
// suffix check cannot be fooled by message text, and no JSON library is needed in Lua.
const markRead = new LuaScript(`
local json = redis.call('HGET', KEYS[1], ARGV[1])
if not json or string.sub(json, 1, ${DISMISSED.length}) == '${DISMISSED}' then return 0 end
local unread = '"readAt":null}'
if string.sub(json, -string.len(unread)) ~= unread then return 1 end
redis.call('HSET', KEYS[1], ARGV[1], string.sub(json, 1, -string.len(unread) - 1) .. '"readAt":' .. ARGV[2] .. '}')
return 1
`);

/**
 * The in-app channel: each message is stored in the customer's inbox in Redis, once per
 * operation id (a retried send stores nothing new), keeping the newest `maxMessages`, and not at
 * all once an erasure of the customer has ended the send. The API reads it with
 * `readInAppInbox()`, marks messages read with `markInAppRead()` and removes them with
 * `dismissInAppMessage()`.
 *
 * @example
 * ```ts
 * const inApp = createInAppAdapter({ redis, prefix: 'chorus' });
 * await inApp.send(delivery);
 * const inbox = await readInAppInbox(redis, 'chorus', 'bob'); // newest first
 * ```
 */
export function createInAppAdapter(options: InAppAdapterOptions): ChannelAdapter {
  const { redis, prefix } = options;
  const max = options.maxMessages ?? 100;
  const clock = options.clock ?? systemClock;
  const ttlMs = options.ttlMs ?? IN_APP_TTL_MS;
  if (!(Number.isFinite(ttlMs) && ttlMs > 0)) {
    throw new ChannelConfigError(
      'ttlMs',
      `The in-app adapter's ttlMs is ${ttlMs}: it is how long a message is shown. To fix: give a number of milliseconds above 0, such as ${IN_APP_TTL_MS} (30 days).`,
    );
  }
  // Whole milliseconds, as Redis takes an expiry: digits, not 1e+20.
  const keptMs = Math.min(Math.ceil(ttlMs), Number.MAX_SAFE_INTEGER);
  return {
    channel: 'in-app',
    provider: 'redis',
    idempotent: true,
    async send(delivery): Promise<DeliveryResult> {
      const checked = renderedFor(delivery, 'in-app');
      if (!checked.ok) return checked.result;
      const { rendered } = checked;
      const now = clock.now();
      const message: InAppMessage = {
        id: delivery.opId,
        title: rendered.title,
        body: rendered.body,
        cta: { label: rendered.cta.label, url: rendered.cta.url },
        journey: delivery.journeyId,
        message: delivery.message,
        createdAt: now,
        expiresAt: now + ttlMs,
        readAt: null, // must stay the last member: see markRead
      };
      const keys = inAppKeys(prefix, delivery.customerId);
      try {
        const op = customerKeys(prefix, delivery.customerId).op(delivery.opId);
        const stored = await storeMessage.run(
          redis,
          [keys.items, keys.order, op],
          [delivery.opId, JSON.stringify(message), max, keptMs],
        );
        if (stored === 2) {
          return {
            status: 'failed',
            reason: `customer ${delivery.customerId} was erased while the message was being sent: nothing was stored`,
          };
        }
        return stored === 1
          ? { status: 'sent', providerId: delivery.opId }
          : { status: 'sent', providerId: delivery.opId, detail: 'already in the inbox' };
      } catch (error) {
        return {
          status: 'retry',
          reason: `could not store the in-app message in Redis: ${describeError(error)}`,
        };
      }
    },
  };
}

/**
 * A customer's in-app messages, newest first, at most `limit`. Given `now`, the messages that
 * expired by then are left out (the inbox an app shows); without it, every message kept is read
 * (a customer's export).
 */
export async function readInAppInbox(
  redis: RedisConnection,
  prefix: string,
  customerId: string,
  limit = 100,
  now?: number,
): Promise<InAppMessage[]> {
  const keys = inAppKeys(prefix, customerId);
  // LRANGE's stop is inclusive: a limit of 0 would read one.
  if (limit < 1) return [];
  const wanted = Number.isFinite(limit) ? Math.trunc(limit) : Number.POSITIVE_INFINITY;
  // Read a page at a time until `limit` are shown: expired and dismissed messages leave gaps, and
  // each page after the first is twice the one before, so a long run of them (an app asking for
  // its newest card past a hundred expired ones) costs a few round trips, not one per message.
  // Infinity reads them all at once (LRANGE's -1 is the last).
  let page = Number.isFinite(wanted) ? wanted : 0;
  const messages: InAppMessage[] = [];
  const seen = new Set<string>();
  for (let start = 0; messages.length < wanted; start += page, page *= 2) {
    const ids = await redis.lrange(keys.order, start, page === 0 ? -1 : start + page - 1);
    if (ids.length === 0) break;
    const values = await redis.hmget(keys.items, ...ids);
    for (const value of values) {
      if (value === null || value.startsWith(DISMISSED)) continue;
      const message = storedMessage(value);
      // A damaged entry (a write cut short, an edit by hand) does not take the inbox down with it.
      if (message === undefined) continue;
      const expiresAt = message.expiresAt ?? null;
      // A message stored meanwhile shifts the list: one already read may come again.
      if (seen.has(message.id) || (now !== undefined && expiresAt !== null && expiresAt <= now)) continue;
      seen.add(message.id);
      messages.push({ ...message, expiresAt });
      if (messages.length === wanted) break;
    }
    if (page === 0 || ids.length < page) break;
  }
  return messages;
}

/** A stored message, or undefined for an entry that is not one (not JSON, or without an id). */
function storedMessage(
  value: string,
): (Omit<InAppMessage, 'expiresAt'> & { expiresAt?: number }) | undefined {
  try {
    const parsed: unknown = JSON.parse(value);
    return typeof parsed === 'object' &&
      parsed !== null &&
      typeof (parsed as { id?: unknown }).id === 'string'
      ? (parsed as Omit<InAppMessage, 'expiresAt'> & { expiresAt?: number })
      : undefined;
  } catch {
    return undefined;
  }
}

/** A message the customer dismissed: its content is gone, its id and the time are kept. */
export interface DismissedInAppMessage {
  id: string;
  dismissedAt: number;
}

/**
 * The in-app messages a customer dismissed, newest first: what the inbox keeps of them (see
 * {@link dismissInAppMessage}), for the customer's export, which lists everything kept.
 */
export async function readDismissedInApp(
  redis: RedisConnection,
  prefix: string,
  customerId: string,
): Promise<DismissedInAppMessage[]> {
  const keys = inAppKeys(prefix, customerId);
  const ids = await redis.lrange(keys.order, 0, -1);
  if (ids.length === 0) return [];
  const values = await redis.hmget(keys.items, ...ids);
  return ids.flatMap((id, index) => {
    const value = values[index];
    if (value == null || !value.startsWith(DISMISSED)) return [];
    try {
      return [{ id, dismissedAt: (JSON.parse(value) as { dismissedAt: number }).dismissedAt }];
    } catch {
      return []; // damaged: as for a stored message, not the export's undoing
    }
  });
}

/**
 * Marks one in-app message read (the first time only: a second call keeps the first `readAt`).
 * Answers `false` when the customer has no message with that id.
 */
export async function markInAppRead(
  redis: RedisConnection,
  prefix: string,
  customerId: string,
  id: string,
  now: number = Date.now(),
): Promise<boolean> {
  const keys = inAppKeys(prefix, customerId);
  return (await markRead.run(redis, [keys.items], [id, Math.trunc(now)])) === 1;
}

/**
 * Dismisses one in-app message: the customer closed it, so the inbox no longer lists it (nor
 * the export: its content is gone), and a repeated send of it is not stored again. Answers
 * `false` when the customer has no such message, or dismissed it already.
 */
export async function dismissInAppMessage(
  redis: RedisConnection,
  prefix: string,
  customerId: string,
  id: string,
  now: number = Date.now(),
): Promise<boolean> {
  const keys = inAppKeys(prefix, customerId);
  return (await dismiss.run(redis, [keys.items], [id, Math.trunc(now)])) === 1;
}
