import type { RedisConnection } from '../redis/connection.js';
import { customerKeys } from '../store/customer-keys.js';
import { LuaScript } from '../store/lua-script.js';
import { readStoredObjects } from '../store/message-list.js';
import { countDailyChanges, type DailyMetric } from './daily-counts.js';
import type { TrackedSend } from './tracking-token.js';

/** What happened to a send after it left: a person opened or clicked it, or its provider reported. */
export type EngagementKind = 'opened' | 'clicked' | 'delivered' | 'bounced' | 'complained';

/** One entry of a customer's engagement list. */
export interface EngagementEntry {
  kind: EngagementKind;
  opId: string;
  journeyId: string;
  message: string;
  channel: string;
  variant: string;
  /** Epoch ms. */
  at: number;
  /** The link's target, for a click. */
  url?: string;
  /** A provider's words, for a report. */
  reason?: string;
}

/** The first time of each kind for one send, and how often it was clicked. */
export interface SendEngagement {
  openedAt?: number;
  clickedAt?: number;
  clicks?: number;
  deliveredAt?: number;
  bouncedAt?: number;
  complainedAt?: number;
}

const ENGAGEMENT_CAP = 200;

/**
 * How many sends' engagement a customer keeps. Provider reports alone add a field for every
 * send, so without a bound a customer grew for as long as they received messages. The customer
 * view shows it beside the last hundred message-list entries; an open or click of a send older
 * than this is counted as its first again.
 */
export const TRACKED_SENDS_CAP = 500;

/** The fields `tracked` holds for one send (see recordScript): a time per kind, and the clicks. */
const TRACKED_KINDS: ReadonlyArray<EngagementKind | 'clicks'> = [
  'opened',
  'clicked',
  'clicks',
  'delivered',
  'bounced',
  'complained',
];

/**
 * KEYS: tracked hash, engagement list, tracked-ops sorted set, message list, optionally the
 * customer's state.
 * ARGV: opId, kind, at, entry JSON, list cap, sends cap, the time of the send when the caller read
 * it from the message list already (0 when the list did not give one) or '', the send's status
 * the caller read with it (or ''), what its entry says could not be seen of it (`untracked`,
 * comma-joined, or ''), then the field kinds of a send.
 * The first of each kind per send sets its time and is listed; every click is listed and
 * counted, as it carries the link that was followed. A send seen for the first time may push
 * the oldest send's fields out. With the state key, nothing is written when the customer has no
 * state ({-1, 0, 0, ''}). Returns {1 for the first of its kind else 0, the time of the send from
 * the message list when this is to be counted and the list holds it, else 0, 1 when this is the
 * first that was heard of a send recorded `unknown`, else 0, and then its entry's `untracked`,
 * comma-joined}.
 */
const recordScript = new LuaScript(`
if KEYS[5] and redis.call('EXISTS', KEYS[5]) == 0 then return {-1, 0, 0, ''} end
local first = redis.call('HSETNX', KEYS[1], ARGV[1] .. '|' .. ARGV[2], ARGV[3])
if ARGV[2] == 'clicked' then redis.call('HINCRBY', KEYS[1], ARGV[1] .. '|clicks', 1) end
if first == 1 or ARGV[2] == 'clicked' then
  redis.call('LPUSH', KEYS[2], ARGV[4])
  redis.call('LTRIM', KEYS[2], 0, tonumber(ARGV[5]) - 1)
end
local heard = redis.call('ZADD', KEYS[3], 'NX', ARGV[3], ARGV[1])
if heard == 1 then
  local over = redis.call('ZCARD', KEYS[3]) - tonumber(ARGV[6])
  if over > 0 then
    local dropped = redis.call('ZPOPMIN', KEYS[3], over)
    for i = 1, #dropped, 2 do
      for k = 10, #ARGV do redis.call('HDEL', KEYS[1], dropped[i] .. '|' .. ARGV[k]) end
    end
  end
end
local sentAt = 0
local status = ARGV[8]
local untracked = ARGV[9]
if ARGV[7] ~= '' then
  sentAt = tonumber(ARGV[7])
elseif first == 1 or ARGV[2] == 'clicked' then
  for _, raw in ipairs(redis.call('LRANGE', KEYS[4], 0, -1)) do
    if string.find(raw, ARGV[1], 1, true) then
      local ok, entry = pcall(cjson.decode, raw)
      if ok and type(entry) == 'table' and entry.opId == ARGV[1] and type(entry.at) == 'number'
        and (entry.status == 'sent' or entry.status == 'unknown') then
        sentAt = entry.at
        status = entry.status
        local seen = {}
        if type(entry.untracked) == 'table' then
          for _, what in ipairs(entry.untracked) do
            if type(what) == 'string' then seen[#seen + 1] = what end
          end
        end
        untracked = table.concat(seen, ',')
        break
      end
    end
  end
end
local settled = 0
if heard == 1 and sentAt > 0 and status == 'unknown' then settled = 1 end
return {first, sentAt, settled, untracked}
`);

/**
 * Records an open, click or provider report of one send on the customer (in their hash tag) and
 * in the per-day counters: `opened`, `clicked`, `delivered`, `bounced` and `complained` once per
 * send, `clicks` every click. They are counted on the UTC day of the send (its entry on the
 * customer's message list; the day of `at` for a send the list no longer holds), as `sent` is:
 * counted on the day they happened, a day's opens of earlier days' sends were set against its
 * own sends, and a quiet day after a busy one had an open rate far above 100%. The first that is
 * heard of a send recorded `unknown` moves it to `sent` in those counters (its message-list entry
 * stays as recorded). Returns whether this was the first of its kind for the send, and
 * (`known`) whether it was recorded at all, false only for `knownOnly` and no customer state.
 *
 * `knownOnly`: record only if the customer has a state (every send's journey step wrote it, and
 * only erasure deletes it), checked in the same atomic step as the write, so an erasure that
 * ends between the two cannot be followed by a write under the erased customer's id.
 */
export async function recordEngagement(
  redis: RedisConnection,
  prefix: string,
  input: {
    send: TrackedSend;
    kind: EngagementKind;
    at: number;
    url?: string;
    reason?: string;
    knownOnly?: boolean;
    /**
     * The time of the send, for a caller that has read its entry from the message list already
     * (0 when the entry gives none): the list is then not read again.
     */
    sentAt?: number;
    /** With `sentAt`: the status of the send's entry (`sent`, or `unknown`). */
    sentStatus?: string;
    /** With `sentAt`: what the send's entry says could not be seen of it (its `untracked`). */
    sentUntracked?: readonly string[];
  },
): Promise<{ first: boolean; known: boolean }> {
  const { send, kind, at } = input;
  const keys = customerKeys(prefix, send.customerId);
  const entry: EngagementEntry = {
    kind,
    opId: send.opId,
    journeyId: send.journeyId,
    message: send.message,
    channel: send.channel,
    variant: send.variant,
    at,
    ...(input.url === undefined ? {} : { url: input.url }),
    ...(input.reason === undefined ? {} : { reason: input.reason }),
  };
  const [result, sentAt, settled, untracked] = (await recordScript.run(
    redis,
    [keys.tracked, keys.engagement, keys.trackedOps, keys.messages, ...(input.knownOnly ? [keys.state] : [])],
    [
      send.opId,
      kind,
      at,
      JSON.stringify(entry),
      ENGAGEMENT_CAP,
      TRACKED_SENDS_CAP,
      input.sentAt ?? '',
      input.sentStatus ?? '',
      (input.sentUntracked ?? []).join(','),
      ...TRACKED_KINDS,
    ],
  )) as [number, number, number, string];
  if (result === -1) return { first: false, known: false };
  const first = result === 1;
  const day = sentAt > 0 ? sentAt : at;
  // The counters live outside the customer's hash tag (one hash per journey and day), so they
  // are written after the record, and only by the call that recorded the first of its kind.
  // The first that is heard of a send recorded `unknown` shows that it went: counted as sent in
  // the same transaction as what is counted of it, so its day never has more delivered, opened or
  // clicked than sent. What its entry says could not be seen of it is counted with it, as for a
  // send recorded `sent`. One round trip, whatever is counted.
  const changes = new Map<DailyMetric, number>();
  if (settled === 1) {
    changes.set('sent', 1).set('unknown', -1);
    const unseen = untracked.split(',');
    if (unseen.includes('opens')) changes.set('opens-untracked', 1);
    if (unseen.includes('clicks')) changes.set('clicks-untracked', 1);
  }
  if (first) changes.set(kind, 1);
  if (kind === 'clicked') changes.set('clicks', 1);
  await countDailyChanges(redis, prefix, send, changes, day);
  return { first, known: true };
}

/** The engagement of each of a customer's sends, by operation id. */
export async function readSendEngagement(
  redis: RedisConnection,
  prefix: string,
  customerId: string,
): Promise<Map<string, SendEngagement>> {
  const hash = await redis.hgetall(customerKeys(prefix, customerId).tracked);
  const byOp = new Map<string, SendEngagement>();
  for (const [field, value] of Object.entries(hash)) {
    const split = field.lastIndexOf('|');
    const opId = field.slice(0, split);
    const kind = field.slice(split + 1) as (typeof TRACKED_KINDS)[number];
    if (!TRACKED_KINDS.includes(kind)) continue;
    const name = kind === 'clicks' ? 'clicks' : `${kind}At`;
    const found = byOp.get(opId) ?? {};
    found[name as keyof SendEngagement] = Number(value);
    byOp.set(opId, found);
  }
  return byOp;
}

/** A customer's opens, clicks and provider reports, newest first (an entry that is not JSON is left out). */
export async function readEngagement(
  redis: RedisConnection,
  prefix: string,
  customerId: string,
): Promise<EngagementEntry[]> {
  return (await readEngagementList(redis, prefix, customerId)).entries;
}

/** {@link readEngagement}, with the entries that no longer read as JSON objects, as stored (see readStoredObjects). */
export async function readEngagementList(
  redis: RedisConnection,
  prefix: string,
  customerId: string,
): Promise<{ entries: EngagementEntry[]; unreadable: string[] }> {
  const list = readStoredObjects(await redis.lrange(customerKeys(prefix, customerId).engagement, 0, -1));
  return { entries: list.entries as unknown as EngagementEntry[], unreadable: list.unreadable };
}
