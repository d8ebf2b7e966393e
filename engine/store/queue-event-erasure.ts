import type { Queue } from 'bullmq';
import type { RedisConnection } from '../redis/connection.js';
import { customerToken } from '../runtime/ids.js';

/** Entries read per round trip. */
const PAGE = 1_000;

/**
 * The kinds of job named after a customer (see ids.ts): sends, timers and drains, the drains the
 * stranded-inbox sweep adds to rescue an inbox (`r-<customer>-<round>`, inbox-sweeper.ts) among them.
 */
const JOB_KINDS = ['s', 't', 'd', 'r'] as const;

/** The id after `id` in a stream (`<ms>-<seq>`), where the next page starts: `(` ranges need Redis 6.2. */
function after(id: string): string {
  const [ms, seq] = id.split('-') as [string, string];
  return `${ms}-${BigInt(seq) + 1n}`;
}

/**
 * Deletes from the event logs of `queues` (BullMQ's `<queue>:events` streams, which keep each
 * queue's last QUEUE_EVENTS_KEPT events, for days on a quiet one) the entries about the customer's jobs:
 * each names its job, whose id names the customer (`s-<customer>-…`), and a failure's carries its
 * reason, which may quote their address. Read page by page: erasures are rare, and the logs
 * capped. Returns how many entries were deleted.
 */
export async function eraseQueueEvents(
  redis: RedisConnection,
  queues: readonly Queue[],
  customerId: string,
): Promise<number> {
  const prefixes = JOB_KINDS.map((kind) => `${kind}-${customerToken(customerId)}-`);
  const names = (fields: readonly string[]) => {
    const at = fields.indexOf('jobId');
    const jobId = at % 2 === 0 ? fields[at + 1] : undefined;
    return jobId !== undefined && prefixes.some((prefix) => jobId.startsWith(prefix));
  };
  let deleted = 0;
  for (const queue of queues) {
    const key = queue.toKey('events');
    for (let start = '-'; ;) {
      const entries = await redis.xrange(key, start, '+', 'COUNT', PAGE);
      const theirs = entries.filter(([, fields]) => names(fields)).map(([id]) => id);
      if (theirs.length > 0) deleted += await redis.xdel(key, ...theirs);
      if (entries.length < PAGE) break;
      start = after(entries[entries.length - 1]![0]);
    }
  }
  return deleted;
}
