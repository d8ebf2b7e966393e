import { hash } from 'node:crypto';
import { RevenueTotal } from '../journey/revenue.js';
import type { RedisConnection } from '../redis/connection.js';
import { escapeGlob } from '../redis/scan-keys.js';
import type { StatsWriter } from './stats-writes.js';
import type { Note } from '../runtime/command.js';
import type { InstanceRecord } from '../runtime/instance-record.js';

/** One goal reached: who, when, how much, and the split arms they were in (for experiments). */
export interface LoggedConversion {
  customerId: string;
  journeyId: string;
  journeyVersion: number;
  instanceId: string;
  at: number;
  revenue: number;
  variants: Record<string, string>;
}

// A year of conversions per journey is kept: longer than any report window or attribution window.
const RETENTION_MS = 366 * 86_400_000;

export function conversionLogKey(prefix: string, journeyId: string): string {
  return `${prefix}:conversions:${journeyId}`;
}

/**
 * The conversions in a batch of applied events, from their notes and the instances the batch
 * changed, as it left them. Not the customer's instances after the batch: those lack an
 * instance that converted and was pruned in the same batch (newer finished instances of its
 * journey went past the number kept, as when one order converts every instance of a journey
 * entered on each sign-up), whose conversion still counts, with its version and split arms.
 */
export function conversionsIn(
  customerId: string,
  notes: readonly Note[],
  changed: readonly InstanceRecord[],
): LoggedConversion[] {
  const byId = new Map(changed.map((record) => [record.id, record]));
  return notes.flatMap((note) => {
    if (note.kind !== 'converted') return [];
    // Converting changes the instance (convertedAt), so the batch changed it.
    const record = byId.get(note.instanceId);
    return [
      {
        customerId,
        journeyId: note.journeyId,
        journeyVersion: record?.journeyVersion ?? 0,
        instanceId: note.instanceId,
        at: note.at,
        revenue: note.revenue ?? 0,
        variants: (record?.context.variants as Record<string, string> | undefined) ?? {},
      },
    ];
  });
}

/**
 * Appends conversions to their journey's log, a sorted set by time. The member names the
 * instance, so recording the same conversion again (a replayed batch) changes nothing. What is
 * older than a year before `now` (the step's time) goes: not a year before the conversion, whose
 * time is the event's, given by the client, and may lie years ahead (a wrong clock, microseconds),
 * which would have emptied the journey's log.
 */
export function queueConversions(
  batch: StatsWriter,
  prefix: string,
  conversions: readonly LoggedConversion[],
  now: number,
): void {
  for (const conversion of conversions) {
    const key = conversionLogKey(prefix, conversion.journeyId);
    batch.zadd(key, 'NX', conversion.at, JSON.stringify(conversion));
    batch.zremrangebyscore(key, '-inf', now - RETENTION_MS);
  }
}

/** What a period of a journey's conversion log adds up to, and a sample of its conversions. */
export interface ConversionSummary {
  /** Conversions: instances that reached the goal, as the journey's `converted` counts them. */
  count: number;
  /**
   * Their revenue, each order's once: one order converts every instance of the journey the
   * customer is in (with `reentry: 'always'`, several), and each is logged with its revenue.
   */
  revenue: number;
  /**
   * `sampleSize` of them (all when fewer), drawn evenly over the period and the same on every
   * read (see {@link EvenSample}), oldest first; a conversion by an order already logged for
   * another instance carries a revenue of 0, so the order's is credited once.
   */
  sample: LoggedConversion[];
}

/**
 * Keeps `size` conversions drawn evenly from all it is offered: those whose customer and instance
 * ids hash lowest (bottom-k sampling). The latest ones stood for the whole period, and a period whose last
 * days sent other messages than its first had those days' messages credited with conversions of
 * the first days' (scaled to the period's count: rates above 100%, and others' at half theirs).
 * A hash, not chance: the same period reads the same sample, so a report does not change on
 * every reload. Holds at most twice `size`.
 */
class EvenSample {
  readonly #size: number;
  #kept: Array<{ rank: string; order: number; conversion: LoggedConversion }> = [];
  #above = '';
  constructor(size: number) {
    this.#size = size;
  }

  offer(conversion: LoggedConversion, order: number): void {
    if (this.#size <= 0) return;
    // The customer too: instance ids count per customer, so most customers' first is `<journey>.1`,
    // and without it they all shared one rank and the sample fell back to the oldest.
    const rank = hash(
      'sha1',
      `${conversion.customerId}\u0000${conversion.journeyId}\u0000${conversion.instanceId}`,
    );
    if (this.#above !== '' && rank >= this.#above) return;
    this.#kept.push({ rank, order, conversion });
    if (this.#kept.length >= 2 * this.#size) this.#cut();
  }

  /** The sample, in the order offered (oldest first). */
  conversions(): LoggedConversion[] {
    this.#cut();
    return this.#kept.sort((a, b) => a.order - b.order).map((entry) => entry.conversion);
  }

  #cut(): void {
    if (this.#kept.length <= this.#size) return;
    this.#kept.sort((a, b) => (a.rank < b.rank ? -1 : a.rank > b.rank ? 1 : a.order - b.order));
    this.#kept.length = this.#size;
    this.#above = this.#kept[this.#size - 1]!.rank;
  }
}

/** Members read per round trip by {@link summariseConversions}. */
const PAGE = 5_000;

/**
 * Counts a journey's conversions with `from <= at < to` and adds up their orders' revenue, keeping only
 * an even sample of `sampleSize` (see {@link EvenSample}): a year of a busy journey's log, read whole, would be held in memory by
 * a report that needs its totals and a sample. Pages by score, so each round trip starts where
 * the last ended (an offset into the range would walk every member before it again); members of
 * one score are ordered, and those of the boundary score already read are skipped.
 */
export async function summariseConversions(
  redis: RedisConnection,
  prefix: string,
  journeyId: string,
  range: { from: number; to: number },
  sampleSize: number,
  pageSize = PAGE,
): Promise<ConversionSummary> {
  const key = conversionLogKey(prefix, journeyId);
  const sample = new EvenSample(sampleSize);
  let count = 0;
  const revenue = new RevenueTotal();
  let min = range.from;
  let seenAtMin = 0;
  // The customers with a conversion at `min`: the instances one order converted share its time
  // (the event's) and the customer, and a score's members are read in order, so they are the
  // only ones to compare with. Two orders of one customer in the same millisecond both convert
  // only if the customer entered again between them in that millisecond, as an import of events
  // dated to the day could make them: the second order's revenue would be missed then.
  let customersAtMin = new Set<string>();
  for (;;) {
    const flat = await redis.zrangebyscore(
      key,
      min,
      `(${range.to}`,
      'WITHSCORES',
      'LIMIT',
      seenAtMin,
      pageSize,
    );
    for (let i = 0; i < flat.length; i += 2) {
      const logged = JSON.parse(flat[i]!) as LoggedConversion;
      const score = Number(flat[i + 1]);
      if (score !== min) customersAtMin = new Set();
      const sameOrder = customersAtMin.has(logged.customerId);
      customersAtMin.add(logged.customerId);
      const conversion = sameOrder ? { ...logged, revenue: 0 } : logged;
      count++;
      revenue.add(conversion.revenue);
      sample.offer(conversion, count);
      seenAtMin = score === min ? seenAtMin + 1 : 1;
      min = score;
    }
    if (flat.length < pageSize * 2) break;
  }
  return { count, revenue: revenue.value, sample: sample.conversions() };
}

/** A journey's conversions with `from <= at < to`, oldest first. */
export async function readConversions(
  redis: RedisConnection,
  prefix: string,
  journeyId: string,
  from: number,
  to: number,
): Promise<LoggedConversion[]> {
  const members = await redis.zrangebyscore(conversionLogKey(prefix, journeyId), from, `(${to}`);
  return members.map((member) => JSON.parse(member) as LoggedConversion);
}

/**
 * The customer's members of each of `journeyIds`' logs (those they were in). A member starts
 * with the customer's id (see conversionsIn), so a customer whose id begins like another's is not
 * matched by it. Scans each log: erasures and exports are rare, and logs keep a year at most.
 */
async function eachCustomerMember(
  redis: RedisConnection,
  prefix: string,
  customerId: string,
  journeyIds: Iterable<string>,
  found: (key: string, members: string[]) => Promise<void>,
): Promise<void> {
  const pattern = `${escapeGlob(`{"customerId":${JSON.stringify(customerId)},`)}*`;
  for (const journeyId of new Set(journeyIds)) {
    const key = conversionLogKey(prefix, journeyId);
    let cursor = '0';
    do {
      const [next, flat] = await redis.zscan(key, cursor, 'MATCH', pattern, 'COUNT', 1000);
      cursor = next;
      const members = flat.filter((_, i) => i % 2 === 0);
      if (members.length > 0) await found(key, members);
    } while (cursor !== '0');
  }
}

/**
 * The customer's conversions in the logs of `journeyIds`, oldest first: each order's time and
 * revenue, which their instances do not keep, so a data subject access lists them.
 */
export async function customerConversions(
  redis: RedisConnection,
  prefix: string,
  customerId: string,
  journeyIds: Iterable<string>,
): Promise<LoggedConversion[]> {
  const conversions = new Map<string, LoggedConversion>();
  await eachCustomerMember(redis, prefix, customerId, journeyIds, async (_key, members) => {
    // ZSCAN may return a member twice while the set is rehashed.
    for (const member of members) conversions.set(member, JSON.parse(member) as LoggedConversion);
  });
  return [...conversions.values()].sort((a, b) => a.at - b.at);
}

/**
 * Removes an erased customer's conversions from the logs of `journeyIds` (those they were in):
 * each member names the customer, so it is their personal data (the journey's counts, which keep
 * them, hold numbers only). Returns how many were removed.
 */
export async function eraseConversions(
  redis: RedisConnection,
  prefix: string,
  customerId: string,
  journeyIds: Iterable<string>,
): Promise<number> {
  let removed = 0;
  await eachCustomerMember(redis, prefix, customerId, journeyIds, async (key, members) => {
    removed += await redis.zrem(key, ...members);
  });
  return removed;
}
