import { e164PhoneNumber } from '../channels/phone-number.js';
import type { RedisConnection } from '../redis/connection.js';
import { scanEach } from '../redis/scan-keys.js';
import { customerOfToken } from '../runtime/ids.js';
import { customerKeys } from './customer-keys.js';
import type { CustomerStore } from './customer-store.js';
import type { StatsWrites } from './stats-writes.js';

/**
 * Which customers have which phone number, for a text that names only its sender (a STOP):
 * one sorted set of `<E.164 number>|<customer id>`, every score 0, read by lexical range. One key
 * for every customer, as the suppression list is: on a Redis Cluster it sits in a slot of its own,
 * so it is written next to the customer's keys rather than in their scripts (see stats-writes.ts).
 */
export function phoneIndexKey(prefix: string): string {
  return `${prefix}:phone-index`;
}

/** How many of a number's customers are read at a time (a test number may have thousands). */
const PHONE_INDEX_PAGE = 1000;

/**
 * The number a profile's `phone` trait is indexed under: E.164, as Twilio names the sender of a
 * text; undefined for none, or one that is no E.164 number (which no text comes from, or goes to).
 */
export function indexedPhone(profile: Readonly<Record<string, unknown>>): string | undefined {
  const phone = profile['phone'];
  return typeof phone === 'string' ? e164PhoneNumber(phone) : undefined;
}

const member = (phone: string, customerId: string) => `${phone}|${customerId}`;
// A number holds no '|': the first one ends it.
const phoneOf = (entry: string) => entry.slice(0, entry.indexOf('|'));
const idOf = (entry: string) => entry.slice(entry.indexOf('|') + 1);

/**
 * Queues the index's change from the profile `before` to the one `after` (`{}` for an erased
 * customer) with a step's statistics, so it rides in the same script as the profile's write on a
 * single Redis, and is issued right after it on a Cluster. The number held after is added even
 * when unchanged (a no-op then): a customer indexed by no earlier version is, at their next identify.
 */
export function queuePhoneIndexChange(
  writes: StatsWrites,
  prefix: string,
  customerId: string,
  before: Readonly<Record<string, unknown>>,
  after: Readonly<Record<string, unknown>>,
): void {
  const [was, is] = [indexedPhone(before), indexedPhone(after)];
  if (was !== undefined && was !== is) writes.zrem(phoneIndexKey(prefix), member(was, customerId));
  if (is !== undefined) writes.zadd(phoneIndexKey(prefix), 'NX', 0, member(is, customerId));
}

/**
 * The customers whose `phone` trait is `phone` (E.164) now: those the index names, each checked
 * against their profile, as an index entry may outlive its number on a Redis Cluster (a process
 * that died between a step's commit and the index's write), or an erased customer's profile.
 */
export async function customersWithPhone(store: CustomerStore, phone: string): Promise<string[]> {
  const found: string[] = [];
  // Page by page from just after the last member read: a number shared by many customers (a
  // shop's test number) is read whole, a page's profiles at a time.
  let from = `[${phone}|`;
  for (;;) {
    const members = await store.redis.zrangebylex(
      phoneIndexKey(store.prefix),
      from,
      // '}' follows '|': every member of this number, and none of a longer one.
      `(${phone}}`,
      'LIMIT',
      0,
      PHONE_INDEX_PAGE,
    );
    const ids = members.map((entry) => entry.slice(phone.length + 1));
    const profiles = await Promise.all(ids.map((id) => store.profile(id)));
    found.push(...ids.filter((_, i) => indexedPhone(profiles[i]!) === phone));
    if (members.length < PHONE_INDEX_PAGE) return found;
    from = `(${members.at(-1)!}`;
  }
}

/** The customer id a state key (`<prefix>:c:{<token>}`) is of; undefined for any other key. */
function customerOfStateKey(prefix: string, key: string): string | undefined {
  const head = `${prefix}:c:{`;
  if (!key.startsWith(head) || !key.endsWith('}')) return undefined;
  const token = key.slice(head.length, -1);
  return token.includes('}') ? undefined : customerOfToken(token);
}

/**
 * Rebuilds the phone index from the customers' profiles (a full SCAN of every master, as
 * recountJourneys does): adds every customer's number, and takes out entries whose customer has
 * another number, or none, or is gone. Once after upgrading from a version without the index,
 * whose customers are otherwise found only after their next identify, or after a process on a
 * Redis Cluster died between a step's commit and the index's write. An entry is taken out only
 * once the customer's profile, read again, no longer has its number; best run when the engine is
 * quiet all the same. Answers how many customers have a number.
 */
export async function rebuildPhoneIndex(redis: RedisConnection, prefix: string): Promise<number> {
  const key = phoneIndexKey(prefix);
  const indexed = new Set<string>();
  await scanEach(redis, `${prefix}:c:*`, async (keys) => {
    const customers = keys.flatMap((stateKey) => {
      const id = customerOfStateKey(prefix, stateKey);
      return id === undefined ? [] : [{ id, stateKey }];
    });
    const profiles = await Promise.all(customers.map(({ stateKey }) => redis.hget(stateKey, 'profile')));
    for (const [i, { id }] of customers.entries()) {
      const phone = indexedPhone(parseProfile(profiles[i] ?? null));
      if (phone === undefined) continue;
      indexed.add(member(phone, id));
    }
  });
  for (const entry of indexed) await redis.zadd(key, 'NX', 0, entry);
  let cursor = '0';
  do {
    const [next, flat] = await redis.zscan(key, cursor, 'COUNT', 1000);
    cursor = next;
    const unseen = flat.filter((entry, i) => i % 2 === 0 && !indexed.has(entry));
    // Checked again against the profile now: a customer identified since the scan passed them keeps theirs.
    const profiles = await Promise.all(
      unseen.map((entry) => redis.hget(customerKeys(prefix, idOf(entry)).state, 'profile')),
    );
    const stale = unseen.filter(
      (entry, i) => indexedPhone(parseProfile(profiles[i] ?? null)) !== phoneOf(entry),
    );
    if (stale.length > 0) await redis.zrem(key, ...stale);
  } while (cursor !== '0');
  return indexed.size;
}

function parseProfile(raw: string | null): Record<string, unknown> {
  if (raw === null) return {};
  try {
    const parsed: unknown = JSON.parse(raw);
    return typeof parsed === 'object' && parsed !== null ? (parsed as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}
