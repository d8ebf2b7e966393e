import { isCluster, masterNodes, type RedisConnection } from './connection.js';

/**
 * Calls `onKeys` with each batch of keys matching a glob, found with SCAN (never KEYS, which
 * blocks Redis) on every master of a Cluster, or on the one Redis. A key may come twice.
 */
export async function scanEach(
  redis: RedisConnection,
  pattern: string,
  onKeys: (keys: string[]) => Promise<void> | void,
): Promise<void> {
  for (const node of masterNodes(redis)) {
    let cursor = '0';
    do {
      const [next, keys] = await node.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
      cursor = next;
      if (keys.length > 0) await onKeys(keys);
    } while (cursor !== '0');
  }
}

/** Every key matching a glob, on every master of a Cluster. */
export async function scanKeys(redis: RedisConnection, pattern: string): Promise<string[]> {
  const found = new Set<string>();
  await scanEach(redis, pattern, (keys) => {
    for (const key of keys) found.add(key);
  });
  return [...found];
}

/**
 * Deletes every key matching each glob, in chunks, without blocking Redis. Returns how many.
 * On a Cluster each key is unlinked on its own (keys of different slots cannot share a command).
 */
export async function deleteKeysMatching(
  redis: RedisConnection,
  patterns: readonly string[],
): Promise<number> {
  let deleted = 0;
  for (const pattern of patterns) {
    const keys = await scanKeys(redis, pattern);
    deleted += await unlinkKeys(redis, keys);
  }
  return deleted;
}

/** UNLINKs keys, in chunks on one Redis, one by one (pipelined per slot) on a Cluster. */
export async function unlinkKeys(redis: RedisConnection, keys: readonly string[]): Promise<number> {
  let deleted = 0;
  if (!isCluster(redis)) {
    for (let i = 0; i < keys.length; i += 500) deleted += await redis.unlink(...keys.slice(i, i + 500));
    return deleted;
  }
  for (let i = 0; i < keys.length; i += 500) {
    const counts = await Promise.all(keys.slice(i, i + 500).map((key) => redis.unlink(key)));
    deleted += counts.reduce((sum, n) => sum + n, 0);
  }
  return deleted;
}
