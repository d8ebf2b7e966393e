import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CustomerStore } from '../../engine/store/customer-store.js';
import { LuaScript } from '../../engine/store/lua-script.js';
import { APPLY_STATS_WRITES, ridesInScripts, StatsWrites } from '../../engine/store/stats-writes.js';
import type { RedisConnection } from '../../engine/index.js';
import { testRedis } from '../support/redis.js';

// The script path is the single-Redis one (on a Cluster the writes are issued), and the two paths
// are compared here, so this suite runs against the single Redis only.
const applyOnly = new LuaScript(`${APPLY_STATS_WRITES}\nreturn applyStatsWrites(1, 1)`);

function sampleWrites(prefix: string): StatsWrites {
  const writes = new StatsWrites();
  writes.hincrbyAll(
    `${prefix}:counts`,
    new Map([
      ['1|state|a', 1],
      ['1|state|b', -1],
      ['unmoved', 0],
    ]),
  );
  writes.hincrbyAll(`${prefix}:day`, new Map([['1|entered|all', 2]]), 3600);
  writes.zadd(`${prefix}:log`, 'NX', 5000, 'converted');
  writes.zadd(`${prefix}:log`, 'NX', 100, 'old');
  writes.zremrangebyscore(`${prefix}:log`, '-inf', 1000);
  return writes;
}

async function snapshot(redis: RedisConnection, prefix: string) {
  return {
    counts: await redis.hgetall(`${prefix}:counts`),
    day: await redis.hgetall(`${prefix}:day`),
    dayTtl: await redis.ttl(`${prefix}:day`),
    log: await redis.zrange(`${prefix}:log`, 0, -1, 'WITHSCORES'),
  };
}

describe('statistics writes', () => {
  let redis: RedisConnection;
  let prefix: string;
  let cleanup: () => Promise<void>;
  beforeEach(() => ({ redis, prefix, cleanup } = testRedis()));
  afterEach(() => cleanup());

  it('are issued in order, one script per write, and settle when all are answered', async () => {
    const writes = new StatsWrites();
    writes.hincrbyAll(
      `${prefix}:h`,
      new Map([
        ['a', 2],
        ['b', -1],
        ['c', 0],
      ]),
    );
    writes.hincrbyAll(`${prefix}:h`, new Map([['a', 3]]), 60);
    writes.hincrbyAll(`${prefix}:h`, new Map([['d', 0]]));
    writes.zadd(`${prefix}:z`, 'NX', 5, 'm');
    writes.zadd(`${prefix}:z`, 'NX', 9, 'm');
    writes.zremrangebyscore(`${prefix}:z`, '-inf', 1);
    // One write per hash, none for increments that are all zero.
    expect(writes.length).toBe(5);
    await writes.issue(redis);
    expect(await redis.hgetall(`${prefix}:h`)).toEqual({ a: '5', b: '-1' });
    expect(await redis.ttl(`${prefix}:h`)).toBeGreaterThan(0);
    expect(await redis.zscore(`${prefix}:z`, 'm')).toBe('5');
  });

  it('when issued, reject with the first error, after the other writes went through', async () => {
    await redis.set(`${prefix}:s`, 'not a hash');
    const writes = new StatsWrites();
    writes.hincrbyAll(`${prefix}:s`, new Map([['a', 1]]));
    writes.hincrbyAll(`${prefix}:h`, new Map([['b', 1]]));
    await expect(writes.issue(redis)).rejects.toThrow(/WRONGTYPE/);
    expect(await redis.hget(`${prefix}:h`, 'b')).toBe('1');
  });

  it('leave the same counters whether a script applies them or they are issued as commands', async () => {
    expect(ridesInScripts(redis)).toBe(true);
    const inScript = sampleWrites(`${prefix}:a`);
    const args = inScript.scriptArgs();
    expect(await applyOnly.run(redis, args.keys, args.args)).toBe('');
    await sampleWrites(`${prefix}:b`).issue(redis);

    const a = await snapshot(redis, `${prefix}:a`);
    expect(a).toEqual({ ...(await snapshot(redis, `${prefix}:b`)), dayTtl: a.dayTtl });
    expect(a.counts).toEqual({ '1|state|a': '1', '1|state|b': '-1' });
    expect(a.dayTtl).toBeGreaterThan(3500);
    expect(a.log).toEqual(['converted', '5000']);
  });

  it('report a counter that cannot be written, and still apply the others', async () => {
    await redis.set(`${prefix}:counts`, 'not a hash');
    const args = sampleWrites(prefix).scriptArgs();
    expect(await applyOnly.run(redis, args.keys, args.args)).toMatch(/WRONGTYPE/);
    expect(await redis.hgetall(`${prefix}:day`)).toEqual({ '1|entered|all': '2' });
    expect(await redis.zrange(`${prefix}:log`, 0, -1)).toEqual(['converted']);
  });

  it('are applied by the commit that counts them, which a broken counter does not fail', async () => {
    const store = new CustomerStore(redis, { prefix });
    const keys = store.keys('ada');
    await store.push(
      { v: 1, kind: 'track', id: 'e1', customerId: 'ada', name: 'Signed Up', properties: {}, timestamp: 1 },
      { clientId: false, recent: false },
    );
    const loaded = await store.acquire(keys, 'token-1');
    await redis.set(`${prefix}:counts`, 'not a hash');
    const committed = await store.commit(keys, 'token-1', {
      expectedRev: loaded!.rev,
      consumed: 1,
      profile: { plan: 'pro' },
      instances: [],
      dead: [],
      stats: sampleWrites(prefix),
    });

    expect(committed).toMatchObject({
      rev: 1,
      released: true,
      statsError: expect.stringMatching(/WRONGTYPE/),
    });
    expect(await store.profile('ada')).toEqual({ plan: 'pro' });
    expect(await redis.llen(keys.inbox)).toBe(0);
    expect(await redis.hgetall(`${prefix}:day`)).toEqual({ '1|entered|all': '2' });
  });
});
