import { describe, expect, it } from 'vitest';
import { readConversions } from '../../engine/index.js';
import { summariseConversions } from '../../engine/store/conversion-log.js';
import { engineEachTest } from '../support/engine.js';
import { eventually } from '../support/redis.js';

describe("a journey's conversion log", () => {
  const h = engineEachTest({ delivery: true, workers: true });

  /** Enters `userId` into onboarding and converts them, the order dated `timestamp`. */
  async function converts(userId: string, timestamp?: number) {
    await h.engine.track({ userId, event: 'Signed Up' });
    await h.engine.track({
      userId,
      event: 'Order Completed',
      properties: { revenue: 10 },
      ...(timestamp === undefined ? {} : { timestamp }),
    });
    await eventually(
      async () => (await h.engine.customer(userId)).instances[0]?.convertedAt !== undefined,
      10_000,
      `${userId} to convert`,
    );
  }

  it("keeps the journey's conversions when an order arrives dated years ahead", async () => {
    const now = Date.now();
    await converts('ada');
    await converts('bo');
    // A client whose clock is wrong, or that sends microseconds: the date is the client's to give.
    await converts('cy', now + 3 * 365 * 86_400_000);
    const logged = await readConversions(h.ctx.redis, h.ctx.prefix, 'onboarding', 0, Number.MAX_SAFE_INTEGER);
    expect(logged.map((c) => c.customerId).sort()).toEqual(['ada', 'bo', 'cy']);
  });

  it("forgets an erased customer's conversions, and only theirs", async () => {
    for (const userId of ['ada', 'ad', 'bo']) await converts(userId);
    const result = await h.engine.erase('ada');
    expect(result.keys).toBeGreaterThan(0);
    const logged = await readConversions(h.ctx.redis, h.ctx.prefix, 'onboarding', 0, Number.MAX_SAFE_INTEGER);
    expect(logged.map((c) => c.customerId).sort()).toEqual(['ad', 'bo']);
  });

  it('forgets them in the logs of journeys whose finished instances the customer no longer keeps', async () => {
    await converts('cy');
    // A journey whose instances of cy were deleted as finished: only cy's tally of it remains.
    const logKey = `${h.ctx.prefix}:conversions:reorder`;
    const conversion = { customerId: 'cy', journeyId: 'reorder', journeyVersion: 1, instanceId: 'reorder.1' };
    await h.ctx.redis.zadd(logKey, 1, JSON.stringify({ ...conversion, at: 1, revenue: 5, variants: {} }));
    await h.ctx.redis.hset(h.engine.store.keys('cy').pruned, 'reorder|entered', 1);
    await h.engine.erase('cy');
    expect(await h.ctx.redis.zcard(logKey)).toBe(0);
    expect(
      await readConversions(h.ctx.redis, h.ctx.prefix, 'onboarding', 0, Number.MAX_SAFE_INTEGER),
    ).toEqual([]);
  });
});

describe("an erasure that fails while it forgets the customer's conversions", () => {
  const h = engineEachTest({ delivery: true, workers: true });

  it('leaves them for its retry to forget', async () => {
    await h.engine.track({ userId: 'dee', event: 'Signed Up' });
    await h.engine.track({ userId: 'dee', event: 'Order Completed', properties: { revenue: 10 } });
    await eventually(async () => (await h.engine.customer('dee')).instances[0]?.convertedAt !== undefined);
    const redis = h.engine.store.redis;
    const zscan = redis.zscan.bind(redis);
    let failed = false;
    // The connection drops at the log's scan, once.
    redis.zscan = ((...args: Parameters<typeof zscan>) => {
      if (failed) return zscan(...args);
      failed = true;
      return Promise.reject(new Error('Connection is closed.'));
    }) as typeof redis.zscan;
    try {
      await expect(h.engine.erase('dee')).rejects.toThrow('Connection is closed.');
    } finally {
      redis.zscan = zscan;
    }
    // The retry, once the failed erasure's lease has run out.
    await h.ctx.redis.del(h.engine.store.keys('dee').lease);
    await h.engine.erase('dee');
    expect(
      await readConversions(h.ctx.redis, h.ctx.prefix, 'onboarding', 0, Number.MAX_SAFE_INTEGER),
    ).toEqual([]);
  });

  it('adds up a period page by page, ties across a page boundary included, keeping only a sample', async () => {
    const key = `${h.ctx.prefix}:conversions:paged`;
    // Scores 1, 2, 2, 2, 2, 3, ... : with pages of 2 members, the four at 2 span three pages.
    const ats = [1, 2, 2, 2, 2, 3, 4, 4, 5, 9];
    for (const [i, at] of ats.entries()) {
      const conversion = {
        customerId: `c${i}`,
        journeyId: 'paged',
        journeyVersion: 1,
        instanceId: `paged.${i}`,
      };
      await h.ctx.redis.zadd(key, at, JSON.stringify({ ...conversion, at, revenue: i + 1, variants: {} }));
    }
    const summary = await summariseConversions(h.ctx.redis, h.ctx.prefix, 'paged', { from: 2, to: 9 }, 3, 2);
    expect(summary.count).toBe(8); // scores 2 to 5: the 1 and the 9 are outside
    expect(summary.revenue).toBe(2 + 3 + 4 + 5 + 6 + 7 + 8 + 9);
    const all = await readConversions(h.ctx.redis, h.ctx.prefix, 'paged', 2, 9);
    // Three of them, oldest first, the same on every read.
    expect(summary.sample).toHaveLength(3);
    expect(summary.sample.map((c) => all.findIndex((d) => d.instanceId === c.instanceId))).toEqual(
      summary.sample.map((c) => all.findIndex((d) => d.instanceId === c.instanceId)).sort((a, b) => a - b),
    );
    expect(
      (await summariseConversions(h.ctx.redis, h.ctx.prefix, 'paged', { from: 2, to: 9 }, 3, 2)).sample,
    ).toEqual(summary.sample);
    // All of them when the sample is as large.
    expect(
      (await summariseConversions(h.ctx.redis, h.ctx.prefix, 'paged', { from: 2, to: 9 }, 8, 2)).sample.map(
        (c) => c.instanceId,
      ),
    ).toEqual(all.map((c) => c.instanceId));
    expect(
      (await summariseConversions(h.ctx.redis, h.ctx.prefix, 'paged', { from: 0, to: 100 }, 0, 3)).count,
    ).toBe(10);
  });

  it("draws the sample over the whole period when every customer's instance has the same id", async () => {
    // Instance ids count per customer (`<journey>.1` for a first entry): 400 customers' first
    // instances, one conversion an hour. A sample of 100 must reach into the last half too.
    const key = `${h.ctx.prefix}:conversions:firsts`;
    const hour = 3_600_000;
    const members = Array.from({ length: 400 }, (_, i) => [
      i * hour,
      JSON.stringify({
        customerId: `c${i}`,
        journeyId: 'firsts',
        journeyVersion: 1,
        instanceId: 'firsts.1',
        at: i * hour,
        revenue: 0,
        variants: {},
      }),
    ]);
    await h.ctx.redis.zadd(key, ...members.flat());
    const { sample } = await summariseConversions(
      h.ctx.redis,
      h.ctx.prefix,
      'firsts',
      { from: 0, to: 400 * hour },
      100,
    );
    expect(sample).toHaveLength(100);
    const late = sample.filter((c) => c.at >= 200 * hour).length;
    expect(late).toBeGreaterThan(25);
    expect(late).toBeLessThan(75);
  });
});
