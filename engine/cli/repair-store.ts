import { Queue } from 'bullmq';
import type { RedisConnection } from '../redis/connection.js';
import { scanKeys } from '../redis/scan-keys.js';
import { recordedShardCount } from '../runtime/recorded-shards.js';
import { JOURNEY_QUEUE, queuePrefix } from '../runtime/queues.js';
import { shardHashTags, shardQueueName } from '../runtime/queue-shards.js';
import { journeyCountsKey } from '../store/journey-counts.js';
import { recountJourneys } from '../store/journey-recount.js';
import { phoneIndexKey, rebuildPhoneIndex } from '../store/phone-index.js';

/** One journey count a recount changed: a field of the journey's counts hash (`version|kind|name`). */
export interface CountChange {
  journey: string;
  field: string;
  before: number;
  after: number;
}

/** What `chorus repair` did. */
export interface RepairResult {
  /** The customers the journey counts were rebuilt from (recountJourneys). */
  customersCounted: number;
  /** The counts that were off, and are right now. */
  countChanges: CountChange[];
  /** The customers the phone index holds a number of (rebuildPhoneIndex). */
  customersWithPhone: number;
  /** Phone index entries added (numbers it missed) and removed (numbers changed, or customers gone). */
  phoneEntriesAdded: number;
  phoneEntriesRemoved: number;
}

/**
 * How many journey workers are connected to the queues of `prefix` (every shard any process
 * recorded). recountJourneys and rebuildPhoneIndex want a quiet engine: a step a worker counts
 * while the recount runs may be lost from the counts. Throws when Redis will not tell (a managed
 * Redis that refuses CLIENT LIST).
 */
export async function journeyWorkersRunning(
  redis: RedisConnection,
  prefix: string,
  queueShards: number,
): Promise<number> {
  const tags = shardHashTags(prefix, await recordedShardCount(redis, prefix, queueShards));
  // Queue objects only to ask BullMQ, writing nothing (a queue writes its meta key otherwise): a
  // mistyped REDIS_PREFIX leaves no keys behind.
  const queues = tags.map(
    (tag, shard) =>
      new Queue(shardQueueName(JOURNEY_QUEUE, shard), {
        connection: redis,
        prefix: queuePrefix(tag),
        skipMetasUpdate: true,
      }),
  );
  try {
    const counts = await Promise.all(queues.map((queue) => queue.getWorkersCount()));
    return counts.reduce((a, b) => a + b, 0);
  } finally {
    // The connection is the caller's: a queue leaves a connection it was given open.
    await Promise.all(queues.map((queue) => queue.close()));
  }
}

/**
 * Rebuilds the journey counts (recountJourneys) and the phone index (rebuildPhoneIndex) of
 * `prefix`, and tells what each changed. Run it while no journey worker runs (see
 * journeyWorkersRunning): both scan every customer.
 *
 * @example
 * const result = await repairStore(redis, 'chorus');
 * console.log(formatRepair(result, 'Redis redis://127.0.0.1:6379 under REDIS_PREFIX chorus'));
 */
export async function repairStore(redis: RedisConnection, prefix: string): Promise<RepairResult> {
  const countsBefore = await allJourneyCounts(redis, prefix);
  const customersCounted = await recountJourneys(redis, prefix);
  const countsAfter = await allJourneyCounts(redis, prefix);

  const phoneKey = phoneIndexKey(prefix);
  const phonesBefore = new Set(await redis.zrange(phoneKey, 0, -1));
  const customersWithPhone = await rebuildPhoneIndex(redis, prefix);
  const phonesAfter = new Set(await redis.zrange(phoneKey, 0, -1));

  return {
    customersCounted,
    countChanges: countChanges(countsBefore, countsAfter),
    customersWithPhone,
    phoneEntriesAdded: [...phonesAfter].filter((entry) => !phonesBefore.has(entry)).length,
    phoneEntriesRemoved: [...phonesBefore].filter((entry) => !phonesAfter.has(entry)).length,
  };
}

/** Every journey's counts hash, by journey id. */
async function allJourneyCounts(
  redis: RedisConnection,
  prefix: string,
): Promise<Map<string, Record<string, string>>> {
  const start = journeyCountsKey(prefix, '');
  const keys = await scanKeys(redis, `${start}*`);
  const hashes = await Promise.all(keys.map((key) => redis.hgetall(key)));
  return new Map(keys.map((key, i) => [key.slice(start.length), hashes[i] ?? {}]));
}

function countChanges(
  before: Map<string, Record<string, string>>,
  after: Map<string, Record<string, string>>,
): CountChange[] {
  const changes: CountChange[] = [];
  for (const journey of new Set([...before.keys(), ...after.keys()])) {
    const was = before.get(journey) ?? {};
    const is = after.get(journey) ?? {};
    for (const field of new Set([...Object.keys(was), ...Object.keys(is)])) {
      const [from, to] = [Number(was[field] ?? 0), Number(is[field] ?? 0)];
      if (from !== to) changes.push({ journey, field, before: from, after: to });
    }
  }
  return changes.sort((a, b) => a.journey.localeCompare(b.journey) || a.field.localeCompare(b.field));
}

/** At most this many changed counts are listed; the rest are counted. */
const LISTED_CHANGES = 20;

/** What `chorus repair` prints: what it rebuilt, and what was off. */
export function formatRepair(result: RepairResult, where: string): string {
  const lines = [`Repaired ${where}.`];
  const changes = result.countChanges;
  lines.push(
    `Journey counts: rebuilt from ${result.customersCounted} customer(s); ` +
      (changes.length === 0 ? 'every count was right.' : `${changes.length} count(s) corrected:`),
  );
  for (const change of changes.slice(0, LISTED_CHANGES))
    lines.push(`  ${change.journey}  ${change.field}: ${change.before} -> ${change.after}`);
  if (changes.length > LISTED_CHANGES) lines.push(`  and ${changes.length - LISTED_CHANGES} more`);
  const { phoneEntriesAdded: added, phoneEntriesRemoved: removed } = result;
  lines.push(
    `Phone index: rebuilt, ${result.customersWithPhone} customer(s) with a number; ` +
      (added + removed === 0
        ? 'every entry was right.'
        : `${added} missing entry(ies) added, ${removed} stale entry(ies) removed.`),
  );
  if (result.customersCounted === 0 && result.customersWithPhone === 0 && changes.length === 0)
    lines.push(
      'No customer is stored there: if the engine has some, set REDIS_PREFIX (and REDIS_URL) to its own.',
    );
  return `${lines.join('\n')}\n`;
}
