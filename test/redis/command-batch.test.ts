import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { CommandBatch } from '../../engine/store/command-batch.js';
import { testRedis } from '../support/redis.js';

describe('CommandBatch', () => {
  const env = testRedis();
  afterEach(async () => {
    await env.redis.del(`${env.prefix}:h`, `${env.prefix}:s`, `${env.prefix}:z`);
  });

  it('applies its writes in order and settles when all are answered', async () => {
    const { redis, prefix } = env;
    const batch = new CommandBatch(redis);
    batch.hincrbyAll(
      `${prefix}:h`,
      new Map([
        ['a', 2],
        ['b', -1],
        ['c', 0],
      ]),
    );
    batch.hincrbyAll(`${prefix}:h`, new Map([['a', 3]]), 60);
    batch.hincrbyAll(`${prefix}:h`, new Map([['d', 0]]));
    batch.zadd(`${prefix}:z`, 'NX', 5, 'm');
    batch.zadd(`${prefix}:z`, 'NX', 9, 'm');
    batch.zremrangebyscore(`${prefix}:z`, '-inf', 1);
    // One command per hash, none for increments that are all zero.
    expect(batch.length).toBe(5);
    await batch.done();
    expect(await redis.hgetall(`${prefix}:h`)).toEqual({ a: '5', b: '-1' });
    expect(await redis.ttl(`${prefix}:h`)).toBeGreaterThan(0);
    expect(await redis.zscore(`${prefix}:z`, 'm')).toBe('5');
  });

  it('rejects with the first error, after the other writes went through', async () => {
    const { redis, prefix } = env;
    await redis.set(`${prefix}:s`, 'not a hash');
    const batch = new CommandBatch(redis);
    batch.hincrbyAll(`${prefix}:s`, new Map([['a', 1]]));
    batch.hincrbyAll(`${prefix}:h`, new Map([['b', 1]]));
    await expect(batch.done()).rejects.toThrow(/WRONGTYPE/);
    expect(await redis.hget(`${prefix}:h`, 'b')).toBe('1');
  });

  afterAll(async () => env.cleanup());
});
