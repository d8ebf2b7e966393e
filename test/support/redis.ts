import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { deleteKeysMatching } from '../../engine/index.js';

export const TEST_REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

/** A connection to the test Redis and a key prefix no other test uses. */
export function testRedis(): { redis: Redis; prefix: string; cleanup: () => Promise<void> } {
  const redis = new Redis(TEST_REDIS_URL, { maxRetriesPerRequest: null });
  const prefix = `chorus-test-${randomUUID().slice(0, 8)}`;
  return {
    redis,
    prefix,
    async cleanup() {
      await deleteKeys(redis, `${prefix}:*`);
      await deleteKeys(redis, `{${prefix}}:*`);
      redis.disconnect();
    },
  };
}

export async function deleteKeys(redis: Redis, pattern: string): Promise<void> {
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
