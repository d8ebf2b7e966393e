import { describe, expect, it } from 'vitest';
import { customerKeys, customersWithPhone, phoneIndexKey, rebuildPhoneIndex } from '../../engine/index.js';
import { engineEachTest } from '../support/engine.js';
import { eventually } from '../support/redis.js';

const PHONE = '+14155550123';

describe('the phone index', () => {
  const t = engineEachTest({ workers: true, delivery: true });
  const identify = async (userId: string, phone: string) => {
    await t.engine.identify({ userId, traits: { phone } });
    await eventually(async () => (await t.engine.customer(userId)).profile['phone'] === phone || undefined);
  };

  it('is rebuilt from the profiles: numbers stored before it existed are found, stale entries go', async () => {
    await identify('ada', '+1 (415) 555-0123');
    await identify('ünï code/ü{x}', PHONE);
    await identify('bob', '+14155550999');
    const key = phoneIndexKey(t.ctx.prefix);
    // As a version of Chorus without the index left it, with an entry of a number since changed.
    await t.ctx.redis.del(key);
    await t.ctx.redis.zadd(key, 0, `${PHONE}|bob`);
    expect(await customersWithPhone(t.engine.store, PHONE)).toEqual([]);

    expect(await rebuildPhoneIndex(t.ctx.redis, t.ctx.prefix)).toBe(3);
    expect((await customersWithPhone(t.engine.store, PHONE)).sort()).toEqual(['ada', 'ünï code/ü{x}']);
    expect((await t.ctx.redis.zrange(key, 0, -1)).sort()).toEqual(
      [`${PHONE}|ada`, `${PHONE}|ünï code/ü{x}`, '+14155550999|bob'].sort(),
    );
  });

  it('finds every customer of a number many share, not only the first page of the index', async () => {
    const ids = Array.from({ length: 2_500 }, (_, i) => `tester-${String(i).padStart(4, '0')}`);
    const write = t.ctx.redis.pipeline();
    for (const id of ids) {
      write.hset(customerKeys(t.ctx.prefix, id).state, 'profile', JSON.stringify({ phone: PHONE }));
      write.zadd(phoneIndexKey(t.ctx.prefix), 0, `${PHONE}|${id}`);
    }
    // A longer number right after this one's members: not one of them.
    write.zadd(phoneIndexKey(t.ctx.prefix), 0, `${PHONE}9|someone-else`);
    await write.exec();

    const found = await customersWithPhone(t.engine.store, PHONE);
    expect(found).toHaveLength(ids.length);
    expect(new Set(found)).toEqual(new Set(ids));
  });
});
