import type { Redis } from 'ioredis';

/** Every key matching a glob, found with SCAN (never KEYS, which blocks Redis). */
export async function scanKeys(redis: Redis, pattern: string): Promise<string[]> {
  const found = new Set<string>();
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
    cursor = next;
    for (const key of keys) found.add(key);
  } while (cursor !== '0');
  return [...found];
}

/** Deletes every key matching each glob, in chunks, without blocking Redis. Returns how many. */
export async function deleteKeysMatching(redis: Redis, patterns: readonly string[]): Promise<number> {
  let deleted = 0;
  for (const pattern of patterns) {
    const keys = await scanKeys(redis, pattern);
    for (let i = 0; i < keys.length; i += 500) deleted += await redis.unlink(...keys.slice(i, i + 500));
  }
  return deleted;
}
