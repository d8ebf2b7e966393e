import type { FastifyBaseLogger } from 'fastify';
import type { RecordedShards } from '../runtime/recorded-shards.js';

/** How long app creation waits to read the recorded queue shard count (Redis may be away). */
const SHARD_RECORD_WAIT_MS = 2_000;

/**
 * Reads the recorded shards before the dashboard and metrics are set up, waiting two seconds at
 * most, then keeps watching: shards found later (a raised count, or a first read that timed out)
 * are added to both as they are found.
 */
export async function readRecordedShards(shards: RecordedShards, log: FastifyBaseLogger): Promise<void> {
  // Looks now (and every interval after): the read below shares that look.
  shards.watch();
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), SHARD_RECORD_WAIT_MS);
  });
  const read = await Promise.race([
    shards.widen().then(
      () => true,
      () => false,
    ),
    timeout,
  ]);
  clearTimeout(timer);
  if (!read)
    log.warn(
      "the recorded queue shard count was not read within 2 s: the dashboard and metrics show this process's shards until it is",
    );
}
