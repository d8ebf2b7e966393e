import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { deleteKeysMatching, isCluster, masterNodes, scanKeys } from '../../engine/index.js';
import { ON_CLUSTER, testRedis } from '../support/redis.js';

describe('the test Redis of this run', () => {
  let ctx: ReturnType<typeof testRedis>;
  beforeEach(() => {
    ctx = testRedis();
  });
  afterEach(() => ctx.cleanup());

  it.runIf(ON_CLUSTER)(
    'is a three-master Redis Cluster, and the test connections are Cluster clients',
    async () => {
      expect(isCluster(ctx.redis)).toBe(true);
      await ctx.redis.ping();
      expect(masterNodes(ctx.redis)).toHaveLength(3);
    },
  );

  it('finds keys of every slot with SCAN and deletes them, on one Redis or every master', async () => {
    const keys = Array.from({ length: 60 }, (_, i) => `${ctx.prefix}:spread:${i}`);
    await Promise.all(keys.map((key) => ctx.redis.set(key, '1')));
    if (ON_CLUSTER) {
      const holding = await Promise.all(
        masterNodes(ctx.redis).map(async (node) => (await node.dbsize()) > 0),
      );
      expect(holding).toEqual([true, true, true]);
    }
    expect((await scanKeys(ctx.redis, `${ctx.prefix}:spread:*`)).sort()).toEqual([...keys].sort());
    expect(await deleteKeysMatching(ctx.redis, [`${ctx.prefix}:spread:*`])).toBe(60);
    expect(await scanKeys(ctx.redis, `${ctx.prefix}:spread:*`)).toEqual([]);
  });
});
