import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createEngine, evictionPolicyProblem, quietBullmqEvictionWarnings } from '../../engine/index.js';
import { notify } from '../fixtures/journeys/notify.js';
import { startPrivateRedis, type PrivateRedis } from '../fault/support/private-redis.js';

/** Starts an engine's workers on `url` and waits until each has opened its connections. */
async function startEngine(url: string) {
  const redis = new Redis(url, { maxRetriesPerRequest: null });
  const engine = createEngine({
    redis,
    prefix: 'eviction',
    journeys: [notify],
    messages: { has: () => true },
  });
  await Promise.all(engine.startWorkers({ deliveries: false }).map((worker) => worker.waitUntilReady()));
  return async () => {
    await engine.close();
    redis.disconnect();
  };
}

describe('a Redis that may evict keys', () => {
  let privateRedis: PrivateRedis;
  beforeAll(async () => {
    privateRedis = await startPrivateRedis();
    const admin = new Redis(privateRedis.url);
    await admin.config('SET', 'maxmemory-policy', 'allkeys-lru');
    admin.disconnect();
  });
  afterAll(() => privateRedis.stop());

  it('is named with the fix, and BullMQ then stops warning once per connection', async () => {
    const redis = new Redis(privateRedis.url);
    expect(await evictionPolicyProblem(redis)).toMatch(
      /maxmemory-policy is allkeys-lru.*To fix: CONFIG SET maxmemory-policy noeviction/,
    );
    redis.disconnect();

    const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined);
    const evictionWarnings = () =>
      warn.mock.calls.filter(([text]) => String(text).startsWith('IMPORTANT! Eviction policy')).length;
    try {
      let stop = await startEngine(privateRedis.url);
      await stop();
      // Why a process quiets them: one for each of the workers' connections.
      expect(evictionWarnings()).toBeGreaterThan(5);

      warn.mockClear();
      quietBullmqEvictionWarnings();
      quietBullmqEvictionWarnings();
      stop = await startEngine(privateRedis.url);
      await stop();
      console.warn('something else');
      expect(evictionWarnings()).toBe(0);
      expect(warn.mock.calls).toEqual([['something else']]);
    } finally {
      warn.mockRestore();
    }
  });
});
