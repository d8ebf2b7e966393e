import type { RedisConnection } from '../redis/connection.js';
import { customerKeys } from '../store/customer-keys.js';
import { LuaScript } from '../store/lua-script.js';
import {
  ConsentRecord,
  ONE_CLICK_UNSUBSCRIBE_SOURCE,
  TWILIO_INBOUND_SOURCE_PREFIX,
} from './consent-record.js';
import type { ConsentChannel, Topic } from './topic.js';

const LOG_CAP = 100;

/** The field of the customer's consent hash that holds one channel and topic's record. */
export const consentField = (channel: ConsentChannel, topic: Topic) => `${channel}|${topic}`;

/** A stored record read back (from the hash, or by a script that read it with other keys). */
export function decodeConsent(raw: string | null): ConsentRecord | undefined {
  return raw === null ? undefined : ConsentRecord.parse(JSON.parse(raw));
}

/**
 * KEYS: consent hash, log, optionally a marker that, when it exists, means the answers were
 * recorded already (nothing is written), and that is set, for ARGV[2] seconds, in the same step
 * as the answers, then, when ARGV[3] is '1', the customer's state, without which nothing is
 * written and the reply is empty (see writeIfKnown). ARGV: log cap, marker seconds, whether the
 * state is given, then per write its field, record JSON and
 * condition: '' (always), 'pending' (only over a pending record), 'pending@<at>' (only over the
 * pending record of that `at`: the request a confirmation link was made for), 'unless-granted'
 * (not over a granted one) or 'unless-granted@<since>' (nor over a pending one of an `at` from
 * `since` on: a request whose link still holds), any of them after 'keep-unsub;' when the write
 * must not replace a denial a one-click unsubscribe or a texted STOP recorded (see ConsentWrite.keepsUnsubscribe).
 * A write whose record is older (`at`) than the one that holds is not made, whatever its condition
 * but the pending ones. Returns, per write, 1 or 0 (written or not) and the record that holds
 * after it.
 */
const writeScript = new LuaScript(`
-- A record's state and time, read from its JSON's head, which ConsentRecord writes in a fixed order
-- (channel, topic, state, at, …): cjson refuses what JSON.stringify writes for a string holding
-- half a UTF-16 pair ("\\ud800"), which a source may hold, and the whole write failed.
local function stateAndAt(json)
  if not json then return nil, nil end
  local state, at = string.match(json, '^{"channel":"[^"]*","topic":"[^"]*","state":"(%a+)","at":(%d+)')
  return state, tonumber(at)
end
local known = ARGV[3] == '1'
if known and redis.call('EXISTS', KEYS[#KEYS]) == 0 then return {} end
local marker = #KEYS - (known and 1 or 0) == 3 and KEYS[3]
local results = {}
local written = 0
local marked = marker and redis.call('EXISTS', marker) == 1
for i = 4, #ARGV, 3 do
  local field, record, condition = ARGV[i], ARGV[i + 1], ARGV[i + 2]
  local current = redis.call('HGET', KEYS[1], field)
  local state, heldAt = stateAndAt(current)
  local keepUnsub = string.sub(condition, 1, 11) == 'keep-unsub;'
  if keepUnsub then condition = string.sub(condition, 12) end
  -- Only Chorus writes these sources (the API refuses them), and a quote inside another field's
  -- value is escaped, so the plain text matches the source field alone. A text's STOP holds like
  -- an unsubscribe link: the carrier refuses the number's texts until START, whatever a form says.
  local unsubscribed = keepUnsub and state == 'denied' and (string.find(current, '"source":"${ONE_CLICK_UNSUBSCRIBE_SOURCE}"', 1, true) or string.find(current, '"source":"${TWILIO_INBOUND_SOURCE_PREFIX}', 1, true))
  -- An answer given before the one that holds (a late call with an earlier timestamp) does not
  -- replace it: a grant sent late must not undo a later unsubscribe. A confirmation is never older.
  local _, at = stateAndAt(record)
  local older = heldAt and string.sub(condition, 1, 7) ~= 'pending' and heldAt > at
  local pendingAt = string.match(condition, '^pending@(%d+)$')
  local notThatRequest = pendingAt and (state ~= 'pending' or heldAt ~= tonumber(pendingAt))
  local pendingSince = string.match(condition, '^unless%-granted@(%d+)$')
  local askedLately = pendingSince and state == 'pending' and heldAt >= tonumber(pendingSince)
  local unlessGranted = condition == 'unless-granted' or pendingSince
  if marked or unsubscribed or older or notThatRequest or askedLately or (condition == 'pending' and state ~= 'pending') or (unlessGranted and state == 'granted') then
    if marked then current = redis.call('HGET', KEYS[1], field) end
    table.insert(results, 0)
    table.insert(results, current or '')
  else
    redis.call('HSET', KEYS[1], field, record)
    redis.call('LPUSH', KEYS[2], record)
    written = written + 1
    table.insert(results, 1)
    table.insert(results, record)
  end
end
if written > 0 then redis.call('LTRIM', KEYS[2], 0, tonumber(ARGV[1]) - 1) end
if marker and not marked then redis.call('SET', marker, '1', 'EX', tonumber(ARGV[2])) end
return results
`);

/**
 * When a {@link ConsentWrite} is made: always, only over a pending record (with `pendingAt`, only
 * over the one of that time), or not over a granted one (with `pendingSince`, nor over a pending
 * one of that time or later).
 */
export type ConsentCondition = 'always' | 'pending' | 'unless-granted';

export interface ConsentWrite {
  record: ConsentRecord;
  condition?: ConsentCondition;
  /**
   * Not made over a denial a one-click unsubscribe or a texted STOP recorded: for an identify's consent trait,
   * which libraries send again with later calls (see consent-service.ts recordTrait).
   */
  keepsUnsubscribe?: boolean;
  /** With condition `pending`: the `at` of the pending record it may replace. */
  pendingAt?: number;
  /** With condition `unless-granted`: a pending record of this `at` or later is kept too. */
  pendingSince?: number;
}

/**
 * A key in the customer's hash tag whose existence means the answers were recorded already (by
 * an earlier try of the same call): none is written while it exists, and the write sets it, for
 * `seconds`, in the same step.
 */
export interface ConsentMarker {
  key: string;
  seconds: number;
}

/** What a write did: whether it was made, and the record that holds after it (none: none stored). */
export interface ConsentWritten {
  written: boolean;
  holds: ConsentRecord | undefined;
}

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

  async set(customerId: string, record: ConsentRecord): Promise<void> {
    await this.write(customerId, [{ record }]);
  }

  /**
   * Grants a `pending` consent, when given `pendingAt` only the pending record of that time; false
   * when it was not pending (already confirmed, or withdrawn) or is another request's.
   */
  async confirm(customerId: string, record: ConsentRecord, pendingAt?: number): Promise<boolean> {
    const [result] = await this.write(customerId, [
      { record, condition: 'pending', ...(pendingAt === undefined ? {} : { pendingAt }) },
    ]);
    return result?.written ?? false;
  }

  /**
   * Makes several writes of one customer in one script, in the order given, none while the
   * `marker` key exists, which the writes set (see identifyConsentMarker). The command is issued
   * before this returns its promise, so writes of calls made one after another (the calls of a
   * batch) reach Redis, and hold, in the order of the calls.
   */
  async write(
    customerId: string,
    writes: readonly ConsentWrite[],
    marker?: ConsentMarker,
  ): Promise<ConsentWritten[]> {
    return (await this.#write(customerId, writes, marker, false)) ?? [];
  }

  /**
   * {@link write} for a customer the engine knows (who has a state), checked in the same atomic
   * step as the writes; `undefined`, with nothing written, for one it does not. An answer that
   * comes from an erased customer's old email (an unsubscribe link) would otherwise store their
   * consent, under their id, after the erasure removed it.
   */
  async writeIfKnown(
    customerId: string,
    writes: readonly ConsentWrite[],
  ): Promise<ConsentWritten[] | undefined> {
    return this.#write(customerId, writes, undefined, true);
  }

  async #write(
    customerId: string,
    writes: readonly ConsentWrite[],
    marker: ConsentMarker | undefined,
    knownOnly: boolean,
  ): Promise<ConsentWritten[] | undefined> {
    if (writes.length === 0) return [];
    const keys = customerKeys(this.prefix, customerId);
    const args = writes.flatMap(
      ({ record, condition = 'always', pendingAt, pendingSince, keepsUnsubscribe }) => {
        const checked = ConsentRecord.parse(record);
        const when =
          condition === 'always'
            ? ''
            : condition === 'pending' && pendingAt !== undefined
              ? `pending@${Math.trunc(pendingAt)}`
              : condition === 'unless-granted' && pendingSince !== undefined
                ? `unless-granted@${Math.max(0, Math.trunc(pendingSince))}`
                : condition;
        return [
          consentField(checked.channel, checked.topic),
          JSON.stringify(checked),
          keepsUnsubscribe === true ? `keep-unsub;${when}` : when,
        ];
      },
    );
    const reply = (await writeScript.run(
      this.redis,
      [
        keys.consent,
        keys.consentLog,
        ...(marker === undefined ? [] : [marker.key]),
        ...(knownOnly ? [keys.state] : []),
      ],
      [LOG_CAP, marker?.seconds ?? 0, knownOnly ? '1' : '0', ...args],
    )) as Array<number | string>;
    if (reply.length === 0) return undefined;
    return writes.map((_, i) => ({
      written: reply[i * 2] === 1,
      holds: decodeConsent(reply[i * 2 + 1] === '' ? null : String(reply[i * 2 + 1])),
    }));
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

  /** The evidence trail, newest first (an entry that is no record is left out: see historyList). */
  async history(customerId: string): Promise<ConsentRecord[]> {
    return (await this.historyList(customerId)).records;
  }

  /** {@link history}, with the entries that are no record (cut short, edited by hand), as stored. */
  async historyList(customerId: string): Promise<{ records: ConsentRecord[]; unreadable: string[] }> {
    const raw = await this.redis.lrange(customerKeys(this.prefix, customerId).consentLog, 0, -1);
    const records: ConsentRecord[] = [];
    const unreadable: string[] = [];
    for (const entry of raw) {
      const record = ConsentRecord.safeParse(parseJson(entry));
      if (record.success) records.push(record.data);
      else unreadable.push(entry);
    }
    return { records, unreadable };
  }
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
