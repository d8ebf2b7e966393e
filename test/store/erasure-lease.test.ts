import { Worker } from 'bullmq';
import { describe, expect, it } from 'vitest';
import { CustomerJobIndex, drainJobId, systemClock } from '../../engine/index.js';
import {
  ABANDONED_ERASURE,
  CustomerBusyError,
  ERASURE_LEASE_MS,
  eraseCustomer,
} from '../../engine/store/customer-erasure.js';
import { engineEachTest } from '../support/engine.js';

/**
 * Erasure scans the whole keyspace for the customer's keys, which on a large one outlasts a
 * worker's lease: it holds the customer for longer, and hands the lease back if it fails.
 */
describe("erasure's hold on the customer", () => {
  const h = engineEachTest();

  /** Erasure's dependencies, with the job index replaced by `list`, which runs under its lease. */
  function erasing(list: () => Promise<never[]>) {
    const jobIndex = new CustomerJobIndex(h.ctx.redis, h.ctx.prefix);
    jobIndex.list = list;
    return {
      store: h.engine.store,
      jobIndex,
      shards: h.engine.shards,
      clock: systemClock,
    };
  }

  it('holds the lease far longer than a worker would, then deletes it with the customer', async () => {
    const lease = h.engine.store.keys('ada').lease;
    let leftMs = 0;
    const result = await eraseCustomer(
      erasing(async () => {
        leftMs = await h.ctx.redis.pttl(lease);
        return [];
      }),
      'ada',
    );
    expect(leftMs).toBeGreaterThan(h.engine.store.leaseMs);
    expect(leftMs).toBeLessThanOrEqual(ERASURE_LEASE_MS);
    expect(result.jobsRunning).toBe(0);
    expect(await h.ctx.redis.exists(lease)).toBe(0);
  });

  it("leaves the lease, for a worker's length, to the next erasure when it fails part-way", async () => {
    const keys = h.engine.store.keys('ada');
    await h.engine.identify({ userId: 'ada', traits: { plan: 'pro' } });
    await h.engine.settleIngest();
    const failure = new Error('Redis went away');
    await expect(
      eraseCustomer(
        erasing(() => Promise.reject(failure)),
        'ada',
      ),
    ).rejects.toBe(failure);
    expect(await h.ctx.redis.get(keys.lease)).toBe(ABANDONED_ERASURE);
    const leftMs = await h.ctx.redis.pttl(keys.lease);
    expect(leftMs).toBeGreaterThan(0);
    expect(leftMs).toBeLessThanOrEqual(h.engine.store.leaseMs);
    // A worker waits for it, as for any holder.
    expect(await h.engine.store.acquire(keys, 'drain-1')).toBeUndefined();

    // The caller's retry takes it over at once, where it used to be answered busy until it ran out.
    const result = await eraseCustomer(
      erasing(async () => []),
      'ada',
    );
    expect(result.keys).toBeGreaterThan(0);
    expect(await h.ctx.redis.exists(keys.lease, keys.state)).toBe(0);
  });

  it('waits for a lease whose job is running, and takes it over once that job has failed', async () => {
    const { engine } = h;
    const keys = engine.store.keys('ada');
    await engine.identify({ userId: 'ada', traits: { plan: 'pro' } });
    await engine.settleIngest();
    // A drain job a worker is running, with the customer's lease as a step holds it.
    const journeys = engine.queues.journeys;
    await journeys.drain(); // the identify's own drain job, which no worker runs here
    const jobId = drainJobId('ada', 'e-1');
    await journeys.add('drain', { customerId: 'ada' }, { jobId, attempts: 1 });
    const worker = new Worker(journeys.name, null, {
      connection: h.ctx.redis,
      prefix: journeys.opts.prefix!,
      autorun: false,
    });
    try {
      const running = await worker.getNextJob('lock-1');
      expect(running?.id).toBe(jobId);
      await h.ctx.redis.set(keys.lease, jobId, 'PX', engine.store.leaseMs);

      await expect(
        eraseCustomer(
          erasing(async () => []),
          'ada',
        ),
      ).rejects.toBeInstanceOf(CustomerBusyError);
      expect(await h.ctx.redis.get(keys.lease)).toBe(jobId);
      expect(await h.ctx.redis.exists(keys.inbox)).toBe(1);

      // Its step failed without letting go of the customer: nothing runs for them any more.
      await running!.moveToFailed(new Error('step failed'), 'lock-1');
      expect(await h.ctx.redis.get(keys.lease)).toBe(jobId);
      const started = Date.now();
      const result = await eraseCustomer(
        erasing(async () => []),
        'ada',
      );
      expect(Date.now() - started).toBeLessThan(2_000);
      expect(result.keys).toBeGreaterThan(0);
      expect(await h.ctx.redis.exists(keys.state, keys.lease)).toBe(0);
    } finally {
      await worker.close();
    }
  });

  it("clears the failure text of the customer's journey job it could not remove, which a step's error may fill with their data", async () => {
    const { engine } = h;
    await engine.identify({ userId: 'ada', traits: { email: 'ada@example.com' } });
    await engine.settleIngest();
    const journeys = engine.queues.journeys;
    await journeys.drain();
    const jobId = drainJobId('ada', 'e-2');
    await journeys.add('drain', { customerId: 'ada' }, { jobId, attempts: 3 });
    await engine.jobIndex.record('ada', [{ queue: 'journeys', jobId }]);
    const worker = new Worker(journeys.name, null, {
      connection: h.ctx.redis,
      prefix: journeys.opts.prefix!,
      autorun: false,
    });
    try {
      // Its first run failed quoting the customer; its retry is running when the erasure comes.
      const first = await worker.getNextJob('lock-1');
      await first!.moveToFailed(new Error('no journey for ada@example.com'), 'lock-1');
      await journeys.promoteJobs();
      const running = await worker.getNextJob('lock-2');
      expect(running?.id).toBe(jobId);
      expect(running?.failedReason).toContain('ada@example.com');

      const result = await eraseCustomer({ ...erasing(async () => []), jobIndex: engine.jobIndex }, 'ada');
      expect(result.jobsRunning).toBe(1);
      const stored = await h.ctx.redis.hgetall(journeys.toKey(jobId));
      expect(stored.data).toBeDefined();
      expect(JSON.stringify(stored)).not.toContain('ada@example.com');
    } finally {
      await worker.close();
    }
  });
});
