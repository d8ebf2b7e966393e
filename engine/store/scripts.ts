import { LuaScript } from './lua-script.js';
import { APPLY_STATS_WRITES } from './stats-writes.js';

/**
 * Appends an event to the inbox unless its id was seen within the TTL; given the customer's state
 * and consent hash as KEYS[5] and KEYS[6], only for a customer who has either (nothing is written
 * for another).
 * KEYS: inbox, events, lease, seen, optionally state and consent. ARGV: event JSON, its
 * recent-list entry ('' for none), recent cap, seen TTL (s).
 * Returns {accepted (0/1), lease held (0/1), customer known (0/1)}.
 */
export const pushEvent = new LuaScript(`
if KEYS[5] and redis.call('EXISTS', KEYS[5], KEYS[6]) == 0 then return {0, 0, 0} end
if not redis.call('SET', KEYS[4], '1', 'NX', 'EX', ARGV[4]) then
  return {0, redis.call('EXISTS', KEYS[3]), 1}
end
redis.call('RPUSH', KEYS[1], ARGV[1])
if ARGV[2] ~= '' then
  redis.call('LPUSH', KEYS[2], ARGV[2])
  redis.call('LTRIM', KEYS[2], 0, tonumber(ARGV[3]) - 1)
end
return {1, redis.call('EXISTS', KEYS[3]), 1}
`);

/**
 * Takes (or, for the same token, keeps) the customer's lease, then reads the state and the inbox
 * head. With an event in ARGV[4], first appends it to the inbox (a timer job's event), saving a
 * round trip on the hottest path. Once per job: a retried timer job (its token is its job id)
 * does not append it again while it waits in the inbox (the same job makes the same JSON), nor
 * after its own step applied it and has not let go of the customer since (the step's mark is
 * still its token); a copy appended anyway (another job applied the event meanwhile) is dropped
 * as stale when applied. A timer of a customer with no state is dropped instead ({2}): every
 * step that schedules one has marked the state first, so only erasure removed it (the timer's
 * job was running when the erasure listed the customer's jobs), and applying it would
 * write a state back under the erased customer's id, for good. Marks the state with the step's
 * token (`step`) until the step commits or lets go: a mark found by the next taker is a step that died in between, which may
 * have added timer jobs nothing names yet (erasure looks for those; see customer-erasure.ts).
 * KEYS: state, inbox, lease, seq floor. ARGV: token, lease ms, batch size, event JSON or ''.
 * Returns {0} when another job holds the lease, {2} when the timer was dropped, else {1, HGETALL
 * state (before the mark), inbox head, seq floor or ''}.
 */
export const acquireAndLoad = new LuaScript(`
-- Whether the list's first hundred hold the entry (LPOS, without asking for Redis 6.0.6). Only
-- so far: the inbox has no bound, and this runs for every timer. A retry's copy further back
-- (a customer with a backlog) is appended, and dropped as stale when applied.
local function holds(list, entry)
  for _, held in ipairs(redis.call('LRANGE', list, 0, 99)) do
    if held == entry then return true end
  end
  return false
end
if ARGV[4] ~= '' then
  if redis.call('EXISTS', KEYS[1]) == 0 then return {2} end
  if redis.call('HGET', KEYS[1], 'step') ~= ARGV[1] and not holds(KEYS[2], ARGV[4]) then
    redis.call('RPUSH', KEYS[2], ARGV[4])
  end
end
local holder = redis.call('GET', KEYS[3])
if holder and holder ~= ARGV[1] then return {0} end
redis.call('SET', KEYS[3], ARGV[1], 'PX', ARGV[2])
local state = redis.call('HGETALL', KEYS[1])
redis.call('HSET', KEYS[1], 'step', ARGV[1])
return {1, state, redis.call('LRANGE', KEYS[2], 0, tonumber(ARGV[3]) - 1), redis.call('GET', KEYS[4]) or ''}
`);

/**
 * Writes the result of applying the inbox head, if the lease and the revision are still ours
 * (a fencing token: a drainer that lost its lease can never overwrite newer state), clears the
 * step's mark, the versions it entered and the committed profile an early profile write kept (see writeBeforeCommands), putting
 * it back first so a step that writes no profile leaves the committed one, lets go of the lease
 * when the inbox is then empty, and applies the step's
 * statistics writes, if it was given them (see stats-writes.ts): first the customer's tally of
 * pruned instances, then the counters.
 * KEYS: state, inbox, lease, dead, then one per statistics write.
 * ARGV: token, expected rev, events consumed, lease ms, dead count, field argument count,
 * removed field count, dead..., field, value, ..., removed field..., then the statistics writes.
 * Returns {-1} lease lost, {-2} revision moved, else {new rev, released (0/1), statistics error or ''}.
 */
export const commitStep = new LuaScript(`${APPLY_STATS_WRITES}
if redis.call('GET', KEYS[3]) ~= ARGV[1] then return {-1} end
local rev = tonumber(redis.call('HGET', KEYS[1], 'rev') or '0')
if rev ~= tonumber(ARGV[2]) then return {-2} end
local deadCount = tonumber(ARGV[5])
local fieldsEnd = 7 + deadCount + tonumber(ARGV[6])
local removedEnd = fieldsEnd + tonumber(ARGV[7])
local committedProfile = redis.call('HGET', KEYS[1], 'profile-committed')
if committedProfile then
  redis.call('HSET', KEYS[1], 'profile', committedProfile)
  redis.call('HDEL', KEYS[1], 'profile-committed')
end
for i = 8, 7 + deadCount do redis.call('LPUSH', KEYS[4], ARGV[i]) end
if deadCount > 0 then redis.call('LTRIM', KEYS[4], 0, 99) end
-- One HSET per field: unpack() of thousands of arguments exceeds Lua's stack.
for i = 8 + deadCount, fieldsEnd, 2 do redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1]) end
for i = fieldsEnd + 1, removedEnd do redis.call('HDEL', KEYS[1], ARGV[i]) end
redis.call('HSET', KEYS[1], 'rev', rev + 1)
redis.call('HDEL', KEYS[1], 'step', 'step-entries')
redis.call('LTRIM', KEYS[2], tonumber(ARGV[3]), -1)
local released = 0
if redis.call('LLEN', KEYS[2]) == 0 then
  redis.call('DEL', KEYS[3])
  released = 1
else
  redis.call('PEXPIRE', KEYS[3], ARGV[4])
end
return {rev + 1, released, applyStatsWrites(5, removedEnd + 1)}
`);

/**
 * Lets go of the lease, and clears the step's mark (and the versions it entered), if the inbox is empty.
 * KEYS: inbox, lease, state. ARGV: token.
 * Returns -1 lease lost, 1 released, 0 events are waiting.
 */
export const releaseIfIdle = new LuaScript(`
if redis.call('GET', KEYS[2]) ~= ARGV[1] then return -1 end
if redis.call('LLEN', KEYS[1]) == 0 then
  redis.call('HDEL', KEYS[3], 'step', 'step-entries')
  redis.call('DEL', KEYS[2])
  return 1
end
return 0
`);

/**
 * What a batch writes under the lease before its commands run, in one step, without moving the
 * revision; each part only when given (non-empty):
 * - the profile (`profile`): the sends the batch enqueues read it at send time. The committed
 *   profile is kept aside (`profile-committed`, once: a re-run's early write keeps the first)
 *   until the commit: a batch re-run after its step died must apply each event to the profile as
 *   it stood before the batch, not to the traits a later event of the same batch set;
 * - the journey version of each instance the batch enters (`step-entries`: JSON, instance id to
 *   version). A step that dies before its commit is computed again, maybe by a worker of a release
 *   that added a newer version: entering the newer one would give the new instance the ids of the
 *   sends and timers the first run made for the older one, so the re-run enters the one recorded
 *   (see CustomerStore.acquire).
 * KEYS: state, lease. ARGV: token, profile JSON or '', entries JSON or ''.
 * Returns 1 written, -1 lease lost.
 */
export const writeBeforeCommands = new LuaScript(`
if redis.call('GET', KEYS[2]) ~= ARGV[1] then return -1 end
if ARGV[2] ~= '' then
  if redis.call('HEXISTS', KEYS[1], 'profile-committed') == 0 then
    redis.call('HSET', KEYS[1], 'profile-committed', redis.call('HGET', KEYS[1], 'profile') or '{}')
  end
  redis.call('HSET', KEYS[1], 'profile', ARGV[2])
end
if ARGV[3] ~= '' then redis.call('HSET', KEYS[1], 'step-entries', ARGV[3]) end
return 1
`);

/**
 * Deletes an erased customer's last keys (their state among them) and applies the statistics
 * writes that take them out of their journeys' counts, in one atomic step on a single Redis:
 * apart, an erasure that failed between the two (a connection lost) would leave them counted
 * in their states for good, and what they counted for lost to a recount, as its retry finds no
 * customer to count.
 * KEYS: the keys to delete, then one per statistics write. ARGV: how many keys to delete, then
 * the statistics writes. Returns {keys deleted, statistics error or ''}.
 */
export const deleteCounted = new LuaScript(`${APPLY_STATS_WRITES}
local count = tonumber(ARGV[1])
local deleted = 0
for i = 1, count do deleted = deleted + redis.call('UNLINK', KEYS[i]) end
return {deleted, applyStatsWrites(count + 1, 2)}
`);

/**
 * Hands the lease from ARGV[1] to ARGV[2] for ARGV[3] ms, if ARGV[1] still holds it.
 * KEYS: lease. ARGV: holder, new holder, ms. Returns 1 handed over, 0 not held.
 */
export const handOverLease = new LuaScript(`
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
return 1
`);
