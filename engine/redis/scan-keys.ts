import type { Cluster, Redis } from 'ioredis';
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

/**
 * Where a scan that stopped stands: per master (by `host:port`), the SCAN cursor to go on from,
 * or `done` once that master has been scanned to the end in this pass.
 */
export type ScanPosition = Record<string, string>;

export interface BoundedScan {
  position: ScanPosition;
  /** Every master was scanned to the end: the next call starts a new pass. */
  complete: boolean;
}

/**
 * Like {@link scanEach}, but stops once `now()` passes `deadline` (after at least one SCAN, so
 * every call makes progress) and returns where it stopped; given that position back, it goes on
 * from there. A periodic job over a large keyspace then does a bounded share of the work each
 * time instead of a whole pass, whatever the keyspace's size. A key may come twice, and one
 * added or moved (on a resharded Cluster) during a pass may be missed until the next.
 */
export async function scanUntil(
  redis: RedisConnection,
  pattern: string,
  options: { from: ScanPosition; deadline: number; now?: () => number; count?: number },
  onKeys: (keys: string[]) => Promise<void> | void,
): Promise<BoundedScan> {
  const now = options.now ?? Date.now;
  const nodes = masterNodes(redis).map((node) => ({ node, name: nodeName(node) }));
  // A pass that had finished everywhere starts again; a master not seen before starts at 0.
  const finished = nodes.every(({ name }) => options.from[name] === 'done');
  const position: ScanPosition = {};
  for (const { name } of nodes) position[name] = finished ? '0' : (options.from[name] ?? '0');
  let scanned = false;
  for (const { node, name } of nodes) {
    let cursor = position[name]!;
    while (cursor !== 'done') {
      if (scanned && now() > options.deadline) return { position, complete: false };
      const [next, keys] = await node.scan(cursor, 'MATCH', pattern, 'COUNT', options.count ?? 1000);
      scanned = true;
      cursor = next === '0' ? 'done' : next;
      position[name] = cursor;
      if (keys.length > 0) await onKeys(keys);
    }
  }
  return { position, complete: true };
}

/**
 * Every key that starts with `base`, a key whose hash tag all of them share (a customer's keys):
 * on a Redis Cluster, from the keys of that one slot, on the master that holds it, so the time
 * it takes depends on the slot's share of the keyspace, not on the whole; on a single Redis, by
 * SCAN. During a reshard, keys of the slot already moved to its new master are not listed.
 */
export async function keysSharingTag(redis: RedisConnection, base: string): Promise<string[]> {
  const owner = isCluster(redis) ? await slotOwner(redis, base) : undefined;
  if (!owner) return scanKeys(redis, `${escapeGlob(base)}*`);
  const { node, slot } = owner;
  const count = Number(await node.cluster('COUNTKEYSINSLOT', slot));
  if (count === 0) return [];
  const keys = (await node.cluster('GETKEYSINSLOT', slot, count)) as string[];
  return keys.filter((key) => key.startsWith(base));
}

/** `key`'s slot and the master that holds it, as the client's slot map has it. */
async function slotOwner(cluster: Cluster, key: string): Promise<{ node: Redis; slot: number } | undefined> {
  const slot = Number(await cluster.cluster('KEYSLOT', key));
  const name = cluster.slots[slot]?.[0];
  const node = cluster.nodes('master').find((n) => nodeName(n) === name);
  return node && { node, slot };
}

/** How ioredis names a node in its slot map. */
function nodeName(node: Redis): string {
  return `${node.options.host}:${node.options.port}`;
}

/** `text` matched literally in a SCAN pattern. */
export function escapeGlob(text: string): string {
  return text.replace(/[*?[\]\\]/g, '\\$&');
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
