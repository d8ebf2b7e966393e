import type { RedisConnection } from '../redis/connection.js';
import { customerKeys } from '../store/customer-keys.js';
import { LuaScript } from '../store/lua-script.js';
import { ConsentRecord } from './consent-record.js';
import type { ConsentChannel, Topic } from './topic.js';

const LOG_CAP = 100;

/** The field of the customer's consent hash that holds one channel and topic's record. */
export const consentField = (channel: ConsentChannel, topic: Topic) => `${channel}|${topic}`;

/** A stored record read back (from the hash, or by a script that read it with other keys). */
export function decodeConsent(raw: string | null): ConsentRecord | undefined {
  return raw === null ? undefined : ConsentRecord.parse(JSON.parse(raw));
}

/**
 * KEYS: consent hash, log, optionally a marker that, when it exists, means the answer was recorded
 * already. ARGV: field, record JSON, log cap, required current state or ''.
 */
const setScript = new LuaScript(`
if KEYS[3] and redis.call('EXISTS', KEYS[3]) == 1 then return 0 end
if ARGV[4] ~= '' then
  local current = redis.call('HGET', KEYS[1], ARGV[1])
  if not current or cjson.decode(current).state ~= ARGV[4] then return 0 end
end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('LPUSH', KEYS[2], ARGV[2])
redis.call('LTRIM', KEYS[2], 0, tonumber(ARGV[3]) - 1)
return 1
`);

/**
 * Consent per customer, channel and topic, in the customer's own keys (so erasing the customer
 * erases it). Every change is also appended to a capped log: the current record says what
 * holds, the log shows how it came to hold.
 */
export class ConsentStore {
  constructor(
    readonly redis: RedisConnection,
    readonly prefix: string,
  ) {}

  /**
   * Sets the record, unless `unlessMarked` (a key in the customer's hash tag) exists: checked in
   * the same step as the write, which is the call's first command, so calls made in a row reach
   * Redis in that order. Answers whether it was set.
   */
  async set(customerId: string, record: ConsentRecord, unlessMarked?: string): Promise<boolean> {
    return this.#write(customerId, record, '', unlessMarked);
  }

  /** Grants a `pending` consent; false when it was not pending (already confirmed, or withdrawn). */
  async confirm(customerId: string, record: ConsentRecord): Promise<boolean> {
    return this.#write(customerId, record, 'pending');
  }

  async get(customerId: string, channel: ConsentChannel, topic: Topic): Promise<ConsentRecord | undefined> {
    return decodeConsent(
      await this.redis.hget(customerKeys(this.prefix, customerId).consent, consentField(channel, topic)),
    );
  }

  /** Every current record of the customer, sorted by channel and topic. */
  async all(customerId: string): Promise<ConsentRecord[]> {
    const flat = await this.redis.hgetall(customerKeys(this.prefix, customerId).consent);
    return Object.keys(flat)
      .sort()
      .map((key) => ConsentRecord.parse(JSON.parse(flat[key]!)));
  }

  /** The evidence trail, newest first. */
  async history(customerId: string): Promise<ConsentRecord[]> {
    const raw = await this.redis.lrange(customerKeys(this.prefix, customerId).consentLog, 0, -1);
    return raw.map((entry) => ConsentRecord.parse(JSON.parse(entry)));
  }

  async #write(
    customerId: string,
    record: ConsentRecord,
    requiredState: string,
    unlessMarked?: string,
  ): Promise<boolean> {
    const keys = customerKeys(this.prefix, customerId);
    const checked = ConsentRecord.parse(record);
    const done = await setScript.run(
      this.redis,
      [keys.consent, keys.consentLog, ...(unlessMarked === undefined ? [] : [unlessMarked])],
      [consentField(checked.channel, checked.topic), JSON.stringify(checked), LOG_CAP, requiredState],
    );
    return done === 1;
  }
}
