import { randomUUID } from 'node:crypto';
import type { RedisOptions } from 'ioredis';
import {
  connectRedis,
  deleteKeysMatching,
  engineKeyPatterns,
  RedisClusterNodes,
  type RedisConnection,
  type RedisTarget,
} from '../../engine/index.js';

export const TEST_REDIS_URL = process.env.REDIS_URL || 'redis://127.0.0.1:6379';

/**
 * The Redis the tests run against: the Redis Cluster of `REDIS_CLUSTER_NODES` when it is set
 * (the cluster run, whose globalSetup starts one), else `REDIS_URL` or the local Redis.
 */
export const TEST_REDIS_TARGET: RedisTarget = process.env.REDIS_CLUSTER_NODES
  ? RedisClusterNodes.parse(process.env.REDIS_CLUSTER_NODES)
  : { kind: 'single', url: TEST_REDIS_URL };

export const ON_CLUSTER = TEST_REDIS_TARGET.kind === 'cluster';

/** The environment that points a child process (worker, API, CLI) at the test Redis. */
export const TEST_REDIS_ENV: Record<string, string> = ON_CLUSTER
  ? { REDIS_URL: '', REDIS_CLUSTER_NODES: process.env.REDIS_CLUSTER_NODES ?? '' }
  : { REDIS_URL: TEST_REDIS_URL, REDIS_CLUSTER_NODES: '' };

/** A new connection to the test Redis (a Cluster client in the cluster run). */
export function testConnection(options: RedisOptions = { maxRetriesPerRequest: null }): RedisConnection {
  return connectRedis(TEST_REDIS_TARGET, options);
}

/** A connection to the test Redis and a key prefix no other test uses. */
export function testRedis(): { redis: RedisConnection; prefix: string; cleanup: () => Promise<void> } {
  const redis = testConnection();
  const prefix = `chorus-test-${randomUUID().slice(0, 8)}`;
  return {
    redis,
    prefix,
    async cleanup() {
      await deleteKeysMatching(redis, engineKeyPatterns(prefix));
      redis.disconnect();
    },
  };
}

export async function deleteKeys(redis: RedisConnection, pattern: string): Promise<void> {
  await deleteKeysMatching(redis, [pattern]);
}

/** Polls until `check` returns a value other than undefined (or false), or fails after `timeoutMs`. */
export async function eventually<T>(
  check: () => Promise<T | undefined | false>,
  timeoutMs = 10_000,
  what = 'condition',
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
