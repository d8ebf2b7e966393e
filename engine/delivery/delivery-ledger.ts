import type { RedisConnection } from '../redis/connection.js';
import type { Channel } from '../journey/journey-schema.js';
import { LuaScript } from '../store/lua-script.js';
import { KEEP_INDEX_FOR, type heldSendIndex } from '../store/customer-jobs.js';
import { APPLY_STATS_WRITES, type StatsWrites } from '../store/stats-writes.js';

/**
 * How an operation ended, as the customer's message list shows it. `unknown`: a run died after
 * handing the message to a provider that cannot take it twice, so it may or may not have arrived.
 */
export type DeliveryOutcome = 'sent' | 'failed' | 'skipped' | 'unknown';

/** What the ledger holds for one operation; every field is absent before its first claim. */
export interface OperationRecord {
  /** An outcome, or `sending` (a run claimed it) or `retrying` (a provider asked to try later). */
  state: DeliveryOutcome | 'sending' | 'retrying' | undefined;
  /** The channel the send was handed on to, when a channel rerouted it. */
  route: Channel | undefined;
  /** An attempt's provider had the message and did not answer for it (see releaseOperation). */
  mayHaveArrived: boolean;
}

/** How long an operation is remembered after its last change. */
export const LEDGER_TTL_MS = 7 * 86_400_000;

const ENDED = `local function ended(s) return s == 'sent' or s == 'failed' or s == 'skipped' or s == 'unknown' end
`;

export function isOutcome(state: OperationRecord['state']): state is DeliveryOutcome {
  return state === 'sent' || state === 'failed' || state === 'skipped' || state === 'unknown';
}

/**
 * What a claim found: `claimed` (nobody else holds it; `repeat` when an earlier run's send may
 * have arrived, see releaseOperation), `resumed` (took over the claim of a run that died before
 * recording an outcome, made at `since`), `busy` (a live run may still hold it; try again in
 * `retryInMs`), `rerouted` (the channel `to` owns it) or the outcome it already had.
 */
export type Claim =
  | { result: 'claimed'; repeat: boolean }
  | { result: 'resumed'; since: number }
  | { result: 'busy'; retryInMs: number }
  | { result: 'rerouted'; to: Channel }
  | { result: 'ended'; outcome: DeliveryOutcome };

/** KEYS: op key. ARGV: token, now ms, stale ms, channel. */
const claimScript = new LuaScript(`${ENDED}
local state = redis.call('HGET', KEYS[1], 'state')
if ended(state) then return {state, 0} end
local route = redis.call('HGET', KEYS[1], 'route')
if route and route ~= ARGV[4] then return {'rerouted', route} end
local result = 'claimed'
local since = 0
if state == 'sending' then
  local holder = redis.call('HGET', KEYS[1], 'token')
  since = tonumber(redis.call('HGET', KEYS[1], 'since') or '0')
  if holder ~= ARGV[1] then
    local age = tonumber(ARGV[2]) - since
    if age < tonumber(ARGV[3]) then return {'busy', tonumber(ARGV[3]) - age} end
    result = 'resumed'
  end
end
redis.call('HSET', KEYS[1], 'state', 'sending', 'token', ARGV[1], 'since', ARGV[2])
redis.call('PEXPIRE', KEYS[1], ${LEDGER_TTL_MS})
return {result, since, redis.call('HEXISTS', KEYS[1], 'maybe')}
`);

/**
 * Claims an operation before its provider is called. A claim from another run that is older
 * than `staleMs` belongs to a run that died (a live run records an outcome well within it).
 */
export async function claimOperation(
  redis: RedisConnection,
  opKey: string,
  input: { token: string; now: number; staleMs: number; channel: Channel },
): Promise<Claim> {
  const [result, value, maybe] = (await claimScript.run(
    redis,
    [opKey],
    [input.token, input.now, input.staleMs, input.channel],
  )) as [string, number | string, number?];
  if (result === 'claimed') return { result, repeat: maybe === 1 };
  if (result === 'rerouted') return { result, to: value as Channel };
  if (result === 'resumed') return { result, since: Number(value) };
  if (result === 'busy') return { result, retryInMs: Number(value) };
  return { result: 'ended', outcome: result as DeliveryOutcome };
}

/**
 * KEYS: op key, messages list, then one per statistics write.
 * ARGV: outcome, entry JSON, list cap, then the statistics writes.
 * Returns {0} already ended, else {1, statistics error or ''}.
 */
const endScript = new LuaScript(`${ENDED}${APPLY_STATS_WRITES}
if ended(redis.call('HGET', KEYS[1], 'state')) then return {0} end
redis.call('HSET', KEYS[1], 'state', ARGV[1])
redis.call('HDEL', KEYS[1], 'token', 'since', 'maybe')
redis.call('PEXPIRE', KEYS[1], ${LEDGER_TTL_MS})
redis.call('LPUSH', KEYS[2], ARGV[2])
redis.call('LTRIM', KEYS[2], 0, tonumber(ARGV[3]) - 1)
return {1, applyStatsWrites(3, 4)}
`);

/**
 * Ends an operation and adds its entry to the customer's message list, once, with `stats` (the
 * counts of this outcome, single Redis only: see stats-writes.ts) in the same atomic step.
 * `recorded` is false when it had already ended; nothing is counted then.
 */
export async function endOperation(
  redis: RedisConnection,
  keys: { op: string; messages: string },
  outcome: DeliveryOutcome,
  entry: object,
  cap: number,
  stats?: StatsWrites,
): Promise<{ recorded: boolean; statsError?: string }> {
  const writes = stats?.scriptArgs() ?? { keys: [], args: [] };
  const [recorded, statsError] = (await endScript.run(
    redis,
    [keys.op, keys.messages, ...writes.keys],
    [outcome, JSON.stringify(entry), cap, ...writes.args],
  )) as [number, string?];
  return statsError ? { recorded: recorded === 1, statsError } : { recorded: recorded === 1 };
}

/**
 * KEYS: op key, messages list. ARGV: next channel, note JSON, list cap, the channel handing it on.
 * Returns {'ended', outcome}, {'sending'} or {'route', channel in force, 1 when this call set it}.
 */
const rerouteScript = new LuaScript(`${ENDED}
local state = redis.call('HGET', KEYS[1], 'state')
if ended(state) then return {'ended', state} end
local route = redis.call('HGET', KEYS[1], 'route')
if route and route ~= ARGV[4] then return {'route', route} end
if state == 'sending' or redis.call('HEXISTS', KEYS[1], 'maybe') == 1 then return {'sending'} end
redis.call('HSET', KEYS[1], 'route', ARGV[1])
redis.call('PEXPIRE', KEYS[1], ${LEDGER_TTL_MS})
redis.call('LPUSH', KEYS[2], ARGV[2])
redis.call('LTRIM', KEYS[2], 0, tonumber(ARGV[3]) - 1)
return {'route', ARGV[1], 1}
`);

/**
 * What a reroute found: the channel the send is handed to (`set` when this call handed it on,
 * rather than finding a route another run or an earlier attempt had set), or why it is not handed on.
 */
export type Reroute =
  | { result: 'route'; channel: Channel; set: boolean }
  | { result: 'ended'; outcome: DeliveryOutcome }
  | { result: 'sending' };

/**
 * Hands an operation on from channel `from` to `next` and notes it on the message list, once: a
 * replay of the job that rerouted it then forwards it again instead of deciding afresh. Only the
 * channel that holds the operation (no route yet, or the route is `from`: the send may fall back
 * along several) hands it on; otherwise the route in force is answered, so two runs that decided
 * differently both forward to the same channel. An operation that ended, that a run is sending
 * or whose provider may have it already (see releaseOperation) is not handed on.
 */
export async function rerouteOperation(
  redis: RedisConnection,
  keys: { op: string; messages: string },
  from: Channel,
  next: Channel,
  note: object,
  cap: number,
): Promise<Reroute> {
  const [result, value, set] = (await rerouteScript.run(
    redis,
    [keys.op, keys.messages],
    [next, JSON.stringify(note), cap, from],
  )) as [string, string?, number?];
  if (result === 'route') return { result, channel: value as Channel, set: set === 1 };
  if (result === 'ended') return { result, outcome: value as DeliveryOutcome };
  return { result: 'sending' };
}

/** KEYS: op key. ARGV: token, 1 when the send may have arrived. */
/** KEYS: op key. ARGV: token, now ms. */
const renewScript = new LuaScript(`
if redis.call('HGET', KEYS[1], 'state') ~= 'sending' then return 0 end
if redis.call('HGET', KEYS[1], 'token') ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[1], 'since', ARGV[2])
return 1
`);

/**
 * Dates a claim afresh while its run is still with the provider: a claim is taken over only
 * once it is stale, and a live run whose provider answers slowly (a loaded SMTP server, a
 * gateway taking its time) must not be taken for one that died, or the send would go out twice.
 * Answers false when the claim is no longer this run's (it ended, or was taken over).
 */
export async function renewClaim(
  redis: RedisConnection,
  opKey: string,
  token: string,
  now: number,
): Promise<boolean> {
  return (await renewScript.run(redis, [opKey], [token, now])) === 1;
}

const releaseScript = new LuaScript(`
if redis.call('HGET', KEYS[1], 'token') == ARGV[1] then
  redis.call('HSET', KEYS[1], 'state', 'retrying')
  redis.call('HDEL', KEYS[1], 'token', 'since')
  if ARGV[2] == '1' then redis.call('HSET', KEYS[1], 'maybe', 1) end
end
return 1
`);

/**
 * Lets go of a claim after a provider asked to retry later. `mayHaveArrived`: the provider had
 * the message and did not answer for it; the mark stays until an outcome, so the next claim is a
 * `repeat` and a job given up on ends `unknown` rather than `failed`.
 */
export async function releaseOperation(
  redis: RedisConnection,
  opKey: string,
  token: string,
  mayHaveArrived = false,
): Promise<void> {
  await releaseScript.run(redis, [opKey], [token, mayHaveArrived ? 1 : 0]);
}

/** KEYS: op key, messages list. ARGV: channel, entry JSON if claimed, entry JSON if not, list cap. */
const abandonScript = new LuaScript(`${ENDED}
local state = redis.call('HGET', KEYS[1], 'state')
if ended(state) then return false end
local route = redis.call('HGET', KEYS[1], 'route')
if route and route ~= ARGV[1] then return false end
local outcome = 'failed'
local entry = ARGV[3]
if state == 'sending' or redis.call('HEXISTS', KEYS[1], 'maybe') == 1 then
  outcome = 'unknown'
  entry = ARGV[2]
end
redis.call('HSET', KEYS[1], 'state', outcome)
redis.call('HDEL', KEYS[1], 'token', 'since', 'maybe')
redis.call('PEXPIRE', KEYS[1], ${LEDGER_TTL_MS})
redis.call('LPUSH', KEYS[2], entry)
redis.call('LTRIM', KEYS[2], 0, tonumber(ARGV[4]) - 1)
return outcome
`);

/**
 * Ends an operation whose job BullMQ gave up on without our code recording an outcome (out of
 * attempts, or stalled too often): `unknown` when a run had claimed it or a provider went silent
 * with it (it may have been sent), else `failed`. Nothing when it already ended or belongs to another channel.
 */
export async function abandonOperation(
  redis: RedisConnection,
  keys: { op: string; messages: string },
  channel: Channel,
  entries: { unknown: object; failed: object },
  cap: number,
): Promise<DeliveryOutcome | undefined> {
  const outcome = await abandonScript.run(
    redis,
    [keys.op, keys.messages],
    [channel, JSON.stringify(entries.unknown), JSON.stringify(entries.failed), cap],
  );
  return typeof outcome === 'string' ? (outcome as DeliveryOutcome) : undefined;
}

/**
 * How long the ended operations of an erased customer are kept: longer than the ledger, as a job
 * a policy held back (a frequency cap's window) may run again weeks later.
 */
export const ERASED_TTL_MS = 30 * 86_400_000;

/** KEYS: op keys of one customer. ARGV: erasure time (ms). */
const erasedScript = new LuaScript(`
for _, key in ipairs(KEYS) do
  redis.call('DEL', key)
  redis.call('HSET', key, 'state', 'skipped', 'erased', ARGV[1])
  redis.call('PEXPIRE', key, ${ERASED_TTL_MS})
end
return #KEYS
`);

/**
 * Ends, as `skipped`, the operations of an erased customer whose jobs were running and so could
 * not be removed: a job can outlive the erasure (a provider's "try later", a policy's delay), and
 * its next run then finds the operation ended and neither sends nor writes anything back. A run
 * already talking to its provider finishes that send, but its outcome is not recorded. Each
 * entry holds the operation id and the erasure time only, and expires after 30 days.
 */
export async function endErasedOperations(
  redis: RedisConnection,
  opKeys: readonly string[],
  at: number,
): Promise<void> {
  if (opKeys.length > 0) await erasedScript.run(redis, opKeys, [at]);
}

/** Whether an erasure ended the operation (see endErasedOperations). */
export async function erasedOperation(redis: RedisConnection, opKey: string): Promise<boolean> {
  return (await redis.hexists(opKey, 'erased')) === 1;
}

/**
 * KEYS: op key, messages list, then optionally the customer's job index. ARGV: note JSON, list
 * cap, op id, then with the index: the job's member, the TTL (ms) the index must have at least.
 *
 * The operation's earlier `delayed` notes are taken off the list (an older Chorus wrote one per
 * hold) and the new one, counting them in `holds` and dated from the first in `heldSince`, is
 * put on top: the note is JSON.stringify's object, so the fields go in before its closing brace.
 */
const noteScript = new LuaScript(`${ENDED}${KEEP_INDEX_FOR}
if ended(redis.call('HGET', KEYS[1], 'state')) then return 0 end
local note = ARGV[1]
local holds = 1
local since = nil
for _, raw in ipairs(redis.call('LRANGE', KEYS[2], 0, -1)) do
  if string.find(raw, ARGV[3], 1, true) then
    local ok, entry = pcall(cjson.decode, raw)
    if ok and type(entry) == 'table' and entry.opId == ARGV[3] and entry.status == 'delayed' then
      holds = holds + (tonumber(entry.holds) or 1)
      local first = tonumber(entry.heldSince) or tonumber(entry.at)
      if first and (since == nil or first < since) then since = first end
      redis.call('LREM', KEYS[2], 0, raw)
    end
  end
end
if holds > 1 then
  local extra = '"holds":' .. holds
  if since then extra = extra .. ',"heldSince":' .. string.format('%.0f', since) end
  if string.sub(note, -2) ~= '{}' then extra = ',' .. extra end
  note = string.sub(note, 1, -2) .. extra .. '}'
end
redis.call('LPUSH', KEYS[2], note)
redis.call('LTRIM', KEYS[2], 0, tonumber(ARGV[2]) - 1)
if KEYS[3] then
  redis.call('SADD', KEYS[3], ARGV[4])
  keepIndexFor(KEYS[3], ARGV[5])
end
return 1
`);

/** A note on a send held back: its operation id, and what the customer's message list shows of it. */
export type HeldNote = { opId: string } & Record<string, unknown>;

/**
 * Notes a send held back until later on the customer's message list, unless the operation has
 * ended meanwhile (an erasure ends it: the note would bring the erased list back); answers
 * whether it did. A send held again replaces its note rather than adding one: a frequency cap
 * or quiet hours can hold one send many times, and a note per hold pushed the customer's other
 * sends off the capped list, so their provider reports (a bounce, a complaint) no longer found
 * them. The note then says how often it was held (`holds`) and since when (`heldSince`). With
 * `index`, the held job is named in the customer's job index for at least `ttlMs`: a cap's
 * window may hold it longer than the index would otherwise live, and an erasure finds a
 * customer's jobs there.
 */
export async function noteOperation(
  redis: RedisConnection,
  keys: { op: string; messages: string },
  note: HeldNote,
  cap: number,
  index?: ReturnType<typeof heldSendIndex>,
): Promise<{ noted: boolean }> {
  const indexKeys = index ? [index.key] : [];
  const indexArgs = index ? [index.member, Math.ceil(index.ttlMs)] : [];
  return {
    noted:
      (await noteScript.run(
        redis,
        [keys.op, keys.messages, ...indexKeys],
        [JSON.stringify(note), cap, note.opId, ...indexArgs],
      )) === 1,
  };
}
