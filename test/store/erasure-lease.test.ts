import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createEngine, CustomerJobIndex, eraseCustomer, type Engine } from '../../engine/index.js';
import { ERASURE_LEASE_MS } from '../../engine/store/customer-erasure.js';
import { onboarding } from '../fixtures/journeys/onboarding.js';
import { testRedis } from '../support/redis.js';

/**
 * Erasure scans the whole keyspace for the customer's keys, which on a large one outlasts a
 * worker's lease: it holds the customer for longer, and hands the lease back if it fails.
 */
describe("erasure's hold on the customer", () => {
  let ctx: ReturnType<typeof testRedis>;
  let engine: Engine;

  beforeEach(() => {
    ctx = testRedis();
    engine = createEngine({
      redis: ctx.redis,
      prefix: ctx.prefix,
      journeys: [onboarding],
      messages: { has: () => true },
    });
  });
  afterEach(async () => {
    await engine.close();
    await ctx.cleanup();
  });

  /** Erasure's dependencies, with the job index replaced by `list`, which runs under its lease. */
  function erasing(list: () => Promise<never[]>) {
    const jobIndex = new CustomerJobIndex(ctx.redis, ctx.prefix);
    jobIndex.list = list;
    return {
      store: engine.store,
      jobIndex,
      journeyQueue: engine.queues.journeys,
      deliveryQueues: Object.values(engine.queues.deliveries),
    };
  }

  it('holds the lease far longer than a worker would, then deletes it with the customer', async () => {
    const lease = engine.store.keys('ada').lease;
    let leftMs = 0;
    const result = await eraseCustomer(
      erasing(async () => {
        leftMs = await ctx.redis.pttl(lease);
        return [];
      }),
      'ada',
    );
    expect(leftMs).toBeGreaterThan(engine.store.leaseMs);
    expect(leftMs).toBeLessThanOrEqual(ERASURE_LEASE_MS);
    expect(result.jobsRunning).toBe(0);
    expect(await ctx.redis.exists(lease)).toBe(0);
  });

  it("gives the lease a worker's length again when it fails part-way", async () => {
    const lease = engine.store.keys('ada').lease;
    const failure = new Error('Redis went away');
    await expect(
      eraseCustomer(
        erasing(() => Promise.reject(failure)),
        'ada',
      ),
    ).rejects.toBe(failure);
    expect(await ctx.redis.get(lease)).toMatch(/^erase-/);
    const leftMs = await ctx.redis.pttl(lease);
    expect(leftMs).toBeGreaterThan(0);
    expect(leftMs).toBeLessThanOrEqual(engine.store.leaseMs);
  });
});
