import type { Redis } from 'ioredis';
import { deleteKeysMatching } from '../engine/index.js';

/** Deletes every key a benchmark wrote: the engine's `<prefix>:*`, BullMQ's `{<prefix>}:*`, and any extra patterns. */
export async function deleteBenchKeys(
  redis: Redis,
  prefix: string,
  extraPatterns: readonly string[] = [],
): Promise<void> {
  await deleteKeysMatching(redis, [`${prefix}:*`, `{${prefix}}:*`, ...extraPatterns]);
}
