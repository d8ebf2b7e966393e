import { e164PhoneNumber } from '../channels/phone-number.js';
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

/** A number's customers are at most this many: more sharing one number is a test number, or bad data. */
export const PHONE_INDEX_LIMIT = 1000;

/**
 * The number a profile's `phone` trait is indexed under: E.164, as Twilio names the sender of a
 * text; undefined for none, or one that is no E.164 number (which no text comes from, or goes to).
 */
export function indexedPhone(profile: Readonly<Record<string, unknown>>): string | undefined {
  const phone = profile['phone'];
  return typeof phone === 'string' ? e164PhoneNumber(phone) : undefined;
}

const member = (phone: string, customerId: string) => `${phone}|${customerId}`;

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
  const members = await store.redis.zrangebylex(
    phoneIndexKey(store.prefix),
    `[${phone}|`,
    // '}' follows '|': every member of this number, and none of a longer one.
    `(${phone}}`,
    'LIMIT',
    0,
    PHONE_INDEX_LIMIT,
  );
  const ids = members.map((entry) => entry.slice(phone.length + 1));
  const profiles = await Promise.all(ids.map((id) => store.profile(id)));
  return ids.filter((_, i) => indexedPhone(profiles[i]!) === phone);
}
