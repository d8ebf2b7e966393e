import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { keysSharingTag } from '../../engine/redis/scan-keys.js';
import { testRedis } from '../support/redis.js';

describe("listing one customer's keys", () => {
  let ctx: ReturnType<typeof testRedis>;
  beforeEach(() => (ctx = testRedis()));
  afterEach(() => ctx.cleanup());

  it('finds every key of the hash tag and no other, with glob characters in the name taken literally', async () => {
    // `?` and `[1]` would match `X` and `1` as a SCAN pattern.
    const base = `${ctx.prefix}:c?[1]:c:{ada}`;
    const mine = [base, `${base}:inbox`, `${base}:op:s-ada-1`, `${base}:seen:m-1`];
    const others = [
      `${ctx.prefix}:cX1:c:{ada}`,
      `${ctx.prefix}:c?[1]:c:{adam}`,
      `${ctx.prefix}:c?[1]:c:{ad}:inbox`,
    ];
    for (const key of [...mine, ...others]) await ctx.redis.set(key, '1');
    expect((await keysSharingTag(ctx.redis, base)).sort()).toEqual([...mine].sort());
    expect(await keysSharingTag(ctx.redis, `${ctx.prefix}:c:{nobody}`)).toEqual([]);
  });
});
