import type { RedisConnection } from '../redis/connection.js';
import type { DeliveryPolicy } from '../delivery/delivery-policy.js';
import { customerKeys } from '../store/customer-keys.js';
import { LuaScript } from '../store/lua-script.js';
import { ruleMatches, type FrequencyCapRule } from './cap-rules.js';
import { PolicyConfigError } from './errors.js';
import { topicOf } from './topic.js';

/** What a capped send does when its journey does not say: wait for the next allowed slot. */
export const DEFAULT_WHEN_CAPPED = 'wait';

/**
 * KEYS: one sorted set per matching rule, then the send's operation. ARGV: op id, now ms, then
 * max and window ms per set. Returns 0 when the send may go (and is now counted), else { ms the
 * next slot opens, rule index }. One script, so concurrent workers never both take the last slot.
 */
const takeSlotScript = new LuaScript(`
local op = ARGV[1]
local now = tonumber(ARGV[2])
local caps = #KEYS - 1
-- An erasure of the customer ended the operation (and deleted their keys) after the worker read
-- it as open: a count would bring back a set naming them, for the rule's window. Let it go on to
-- its claim, which finds it ended and sends nothing.
if redis.call('HEXISTS', KEYS[#KEYS], 'erased') == 1 then return 0 end
-- Each window is trimmed first: an operation holds its slot only while its entry is in the window.
-- Held under every rule: a replay of a send this script let through, or the retry of one whose
-- provider asked to try later. Held under some only, it was let through on another channel (and
-- rerouted since): this channel's own rules are asked, and a rule that holds it already does not
-- hold it back.
local held = {}
local counted = 0
for i = 1, caps do
  redis.call('ZREMRANGEBYSCORE', KEYS[i], '-inf', now - tonumber(ARGV[2 + i * 2]))
  held[i] = redis.call('ZSCORE', KEYS[i], op) ~= false
  if held[i] then counted = counted + 1 end
end
if counted < caps then
  local wait = 0
  local capped = 0
  for i = 1, caps do
    local max = tonumber(ARGV[1 + i * 2])
    local count = redis.call('ZCARD', KEYS[i])
    if count >= max and not held[i] then
      -- A slot opens when the send that keeps the count at max leaves the window.
      local oldest = redis.call('ZRANGE', KEYS[i], count - max, count - max, 'WITHSCORES')
      local opens = tonumber(oldest[2]) + tonumber(ARGV[2 + i * 2])
      if opens > wait then
        wait = opens
        capped = i
      end
    end
  end
  if capped > 0 then return {wait, capped} end
end
for i = 1, caps do
  -- A slot it holds moves to now, as the send goes out now (a retry, a reroute), not when an
  -- earlier attempt was let through; counted from then, it would leave the window too early. Never
  -- back (a run whose clock is behind): ZADD's GT would say so, but needs Redis 6.2.
  local score = redis.call('ZSCORE', KEYS[i], op)
  if score == false or tonumber(score) < now then redis.call('ZADD', KEYS[i], now, op) end
  redis.call('PEXPIRE', KEYS[i], tonumber(ARGV[2 + i * 2]))
end
return 0
`);

/** KEYS: the customer's cap sets. ARGV: op id. Takes the operation out of every count. */
const releaseSlotScript = new LuaScript(`
for i = 1, #KEYS do redis.call('ZREM', KEYS[i], ARGV[1]) end
`);

export interface FrequencyCapOptions {
  redis: RedisConnection;
  /** The engine's key prefix: counts live beside the customer's other keys. */
  prefix: string;
  rules: readonly FrequencyCapRule[];
}

/**
 * Caps how many sends a customer gets across all journeys, per rule (see `FREQUENCY_CAPS`).
 * A send that fits is counted at once, under its operation id, so a replay of the same send is
 * not counted twice. A capped send waits until the next slot opens, or is skipped when its
 * journey said `whenCapped: 'skip'`. A send that then does not go out (refused by the provider,
 * failed, or skipped or rerouted on a later attempt) gives its slot back, so a failure never costs the customer a later message. Put it
 * last in a policy chain: a slot is taken as soon as this rule lets a send through, so rules
 * that hold sends back should decide first.
 *
 * @example
 * const caps = frequencyCaps({ redis, prefix: 'chorus', rules: FrequencyCapRules.parse('marketing:3/24h') });
 */
export function frequencyCaps(options: FrequencyCapOptions): DeliveryPolicy {
  const labels = new Set<string>();
  for (const rule of options.rules) {
    const problem =
      !Number.isInteger(rule.max) || rule.max < 1
        ? `its max ${rule.max} is not a whole number of at least 1`
        : !(rule.windowMs >= 1000)
          ? `its window of ${rule.windowMs} ms is shorter than a second`
          : labels.has(rule.label)
            ? 'another rule has its label, which keys its count'
            : undefined;
    if (problem)
      throw new PolicyConfigError(
        'rules',
        `frequency cap "${rule.label}": ${problem}. To fix: correct that rule, or give it once.`,
      );
    labels.add(rule.label);
  }
  return {
    check: async ({ job, channel, now, topic }) => {
      const rules = options.rules.filter((rule) => ruleMatches(rule, topicOf({ topic }), channel));
      if (rules.length === 0) return { action: 'send' };
      const keys = customerKeys(options.prefix, job.customerId);
      const result = (await takeSlotScript.run(
        options.redis,
        [...rules.map((rule) => keys.cap(rule.label)), keys.op(job.opId)],
        [job.opId, now, ...rules.flatMap((rule) => [rule.max, rule.windowMs])],
      )) as 0 | [number, number];
      if (result === 0) return { action: 'send' };
      const [opensAt, index] = result;
      const rule = rules[index - 1]!;
      const opens = new Date(opensAt).toISOString();
      if ((job.whenCapped ?? DEFAULT_WHEN_CAPPED) === 'skip')
        return { action: 'skip', reason: `frequency cap ${rule.label} reached (next slot at ${opens})` };
      return {
        action: 'delay',
        untilMs: opensAt,
        reason: `frequency cap ${rule.label} reached: waits until ${opens}`,
      };
    },
    release: async ({ job }) => {
      if (options.rules.length === 0) return;
      const keys = customerKeys(options.prefix, job.customerId);
      await releaseSlotScript.run(
        options.redis,
        options.rules.map((rule) => keys.cap(rule.label)),
        [job.opId],
      );
    },
  };
}
