import { LuaScript } from '../store/lua-script.js';

/**
 * Claims an operation before its provider is called. KEYS: op key. ARGV: token, now ms, stale ms.
 * Returns 'sent'/'failed'/'skipped' when it already ended, 'busy' when another live job claimed it,
 * else 'claimed' (also when a claim by a job that died has gone stale).
 */
export const claimOperation = new LuaScript(`
local state = redis.call('HGET', KEYS[1], 'state')
if state == 'sent' or state == 'failed' or state == 'skipped' then return state end
if state == 'sending' then
  local holder = redis.call('HGET', KEYS[1], 'token')
  local since = tonumber(redis.call('HGET', KEYS[1], 'since') or '0')
  if holder ~= ARGV[1] and tonumber(ARGV[2]) - since < tonumber(ARGV[3]) then return 'busy' end
end
redis.call('HSET', KEYS[1], 'state', 'sending', 'token', ARGV[1], 'since', ARGV[2])
redis.call('PEXPIRE', KEYS[1], 604800000)
return 'claimed'
`);

/**
 * Ends an operation and adds it to the customer's message list, once.
 * KEYS: op key, messages list. ARGV: final state, entry JSON, list cap, ledger TTL ms.
 * Returns 1 when recorded now, 0 when it had already ended.
 */
export const endOperation = new LuaScript(`
local state = redis.call('HGET', KEYS[1], 'state')
if state == 'sent' or state == 'failed' or state == 'skipped' then return 0 end
redis.call('HSET', KEYS[1], 'state', ARGV[1])
redis.call('HDEL', KEYS[1], 'token', 'since')
redis.call('PEXPIRE', KEYS[1], ARGV[4])
redis.call('LPUSH', KEYS[2], ARGV[2])
redis.call('LTRIM', KEYS[2], 0, tonumber(ARGV[3]) - 1)
return 1
`);

/** Lets go of a claim after a provider asked to retry later. KEYS: op key. ARGV: token. */
export const releaseOperation = new LuaScript(`
if redis.call('HGET', KEYS[1], 'token') == ARGV[1] then
  redis.call('HSET', KEYS[1], 'state', 'retrying')
  redis.call('HDEL', KEYS[1], 'token', 'since')
end
return 1
`);
