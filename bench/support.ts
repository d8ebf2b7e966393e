import type { Redis } from 'ioredis';

/** Deletes every key a benchmark wrote: the engine's `<prefix>:*`, BullMQ's `{<prefix>}:*`, and any extra patterns. */
export async function deleteBenchKeys(
  redis: Redis,
  prefix: string,
  extraPatterns: readonly string[] = [],
): Promise<void> {
  for (const pattern of [`${prefix}:*`, `{${prefix}}:*`, ...extraPatterns]) {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
      cursor = next;
      if (keys.length > 0) await redis.unlink(...keys);
    } while (cursor !== '0');
  }
}
