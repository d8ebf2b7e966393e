import type { FastifyBaseLogger } from 'fastify';
import type { Engine } from '../engine.js';
import type { RedisConnection } from '../redis/connection.js';
import { widestQueues } from '../runtime/queues.js';

/** How long app creation waits to read the recorded queue shard count (Redis may be away). */
const SHARD_RECORD_WAIT_MS = 2_000;

/** widestQueues, or this process's own queues when the record cannot be read in time. */
export async function widestQueuesWithin(
  queues: Engine['queues'],
  redis: RedisConnection,
  log: FastifyBaseLogger,
): Promise<Awaited<ReturnType<typeof widestQueues>>> {
  const own = { queues, close: async () => undefined };
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), SHARD_RECORD_WAIT_MS);
  });
  const reading = widestQueues(queues, redis).catch(() => undefined);
  const widest = await Promise.race([reading, timeout]);
  clearTimeout(timer);
  if (widest) return widest;
  // Queues a late answer opens are closed at once: nothing will use them.
  void reading.then((late) => late?.close());
  log.warn(
    "could not read the recorded queue shard count: the dashboard and metrics show this process's shards only",
  );
  return own;
}
