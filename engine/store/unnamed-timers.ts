import type { Queue } from 'bullmq';
import type { RedisConnection } from '../redis/connection.js';
import { customerToken } from '../runtime/ids.js';

const CHUNK = 1000;

/**
 * The ids of the customer's timer jobs that nothing names: those a step added before it died,
 * ahead of the commit that would have named them on the instance. Found by their id
 * (`t-<customer>-…`, see timerJobId) in the waiting lists and scheduled sets of every shard's
 * journey queue and in every timer wheel. Each is read whole, so erasure looks only when the customer carries the
 * mark of an interrupted step.
 */
export async function unnamedTimerJobs(
  redis: RedisConnection,
  queues: readonly Queue[],
  wheelKeys: readonly string[],
  customerId: string,
): Promise<string[]> {
  // The token escapes every byte but letters and digits, so it holds no glob character.
  const idPrefix = `t-${customerToken(customerId)}-`;
  const found = new Set<string>();
  const sets = [...queues.flatMap((queue) => [queue.keys.delayed!, queue.keys.prioritized!]), ...wheelKeys];
  for (const key of sets) {
    let cursor = '0';
    do {
      const [next, entries] = await redis.zscan(key, cursor, 'MATCH', `${idPrefix}*`, 'COUNT', CHUNK);
      for (let i = 0; i < entries.length; i += 2) found.add(entries[i]!);
      cursor = next;
    } while (cursor !== '0');
  }
  for (const key of queues.flatMap((queue) => [queue.keys.wait!, queue.keys.paused!])) {
    for (let start = 0; ; start += CHUNK) {
      const ids = await redis.lrange(key, start, start + CHUNK - 1);
      for (const id of ids) if (id.startsWith(idPrefix)) found.add(id);
      if (ids.length < CHUNK) break;
    }
  }
  return [...found];
}
