import { Redis } from 'ioredis';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { freePort } from '../../engine/free-port.js';
import { createQueueShard } from '../../engine/runtime/queues.js';
import { eventually } from '../support/redis.js';

afterEach(() => {
  vi.restoreAllMocks();
});

describe("a shard's queues while their Redis is away", () => {
  it('leave the reconnect errors to the connection owner, printing no stack of their own', async () => {
    const printed = vi.spyOn(console, 'error').mockImplementation(() => {});
    // Nothing listens there: every reconnect fails, as with a Redis that went away.
    const redis = new Redis(`redis://127.0.0.1:${await freePort()}`, { maxRetriesPerRequest: null });
    let reported = 0;
    redis.on('error', () => (reported += 1));
    const shard = createQueueShard(redis, 'queues-redis-away', 0);

    await eventually(async () => reported >= 3, 10_000, 'a few failed reconnects');

    expect(printed).not.toHaveBeenCalled();
    redis.disconnect();
    await Promise.all([shard.journeys, ...Object.values(shard.deliveries)].map((queue) => queue.close()));
  });
});
