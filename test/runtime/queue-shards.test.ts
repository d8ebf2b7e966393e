import calculateSlot from 'cluster-key-slot';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  allQueues,
  DeliveryNotConfiguredError,
  createHttpApp,
  createQueues,
  masterNodes,
  QueueShardsError,
  scanKeys,
  shardOf,
  timerJobId,
  type Engine,
  type RedisConnection,
} from '../../engine/index.js';
import { recordedShardCount, recordShardCount, shardCountKey } from '../../engine/runtime/recorded-shards.js';
import { onboarding } from '../fixtures/journeys/onboarding.js';
import { testDelivery } from '../support/delivery.js';
import { engineEachTest, onboardingEngine } from '../support/engine.js';
import { eventually, ON_CLUSTER, testRedis } from '../support/redis.js';
import { customerInVariant } from '../support/variants.js';

const SHARDS = 3;

/** Customers of the `tips` variant (so each gets a welcome and waits), `perShard` in each shard. */
function customersOfEveryShard(perShard: number): string[] {
  const picked = new Map<number, string[]>();
  for (let i = 0; [...picked.values()].flat().length < perShard * SHARDS; i++) {
    const id = customerInVariant('tips', `shard-${i}`);
    const shard = picked.get(shardOf(id, SHARDS)) ?? [];
    if (shard.length < perShard) picked.set(shardOf(id, SHARDS), [...shard, id]);
  }
  return [...picked.values()].flat();
}

/** The shard whose queues hold a job `jobId` in the queue `pick` chooses, or -1. */
async function shardHolding(
  engine: Engine,
  jobId: string,
  pick: (s: Engine['queues']['shards'][number]) => Engine['queues']['journeys'],
) {
  const found = await Promise.all(engine.queues.shards.map((shard) => pick(shard).getJob(jobId)));
  return found.findIndex((job) => job !== undefined);
}

/** Signs `id` up and waits for their welcome to be sent; returns its operation id. */
async function welcomed(engine: Engine, id: string): Promise<string> {
  await engine.identify({ userId: id, traits: { email: `${id}@example.com` } });
  await engine.track({ userId: id, event: 'Signed Up', properties: { plan: 'pro' } });
  const customer = await eventually(async () => {
    const c = await engine.customer(id);
    return c.messages[0]?.status === 'sent' ? c : undefined;
  });
  return String(customer.messages[0]!.opId);
}

describe('queues split into shards (QUEUE_SHARDS)', () => {
  const h = engineEachTest({ delivery: true, workers: true, queueShards: SHARDS });

  it("carries each customer's jobs in their shard, and every customer's welcome goes out once", async () => {
    const ids = customersOfEveryShard(3);
    for (const id of ids) {
      await h.engine.identify({ userId: id, traits: { email: `${id}@example.com` } });
      await h.engine.track({ userId: id, event: 'Signed Up', properties: { plan: 'pro' } });
    }
    const customers = await Promise.all(
      ids.map((id) =>
        eventually(async () => {
          const c = await h.engine.customer(id);
          return c.messages[0]?.status === 'sent' && c.instances[0]?.state === 'browsing' ? c : undefined;
        }),
      ),
    );
    for (const [i, customer] of customers.entries()) {
      expect(customer.messages.map((m) => m.message)).toEqual(['welcome']);
      const opId = String(customer.messages[0]!.opId);
      expect(await shardHolding(h.engine, opId, (shard) => shard.deliveries.email), ids[i]).toBe(
        shardOf(ids[i]!, SHARDS),
      );
    }
    // Each shard's email worker sent its own customers' welcomes.
    const sentPerShard = await Promise.all(
      h.engine.queues.shards.map((shard) => shard.deliveries.email.getCompletedCount()),
    );
    expect(sentPerShard).toEqual([3, 3, 3]);
  });

  it('gives each shard queues of their own names, in a hash tag of their own', () => {
    const shards = h.engine.queues.shards;
    expect(shards.map((shard) => shard.journeys.name)).toEqual(['journeys', 'journeys-1', 'journeys-2']);
    expect(shards[2]!.deliveries.email.name).toBe('deliveries-email-2');
    expect(shards[0]!.prefix).toBe(`{${h.ctx.prefix}}`);
    expect(new Set(shards.map((shard) => calculateSlot(shard.prefix))).size).toBe(SHARDS);
    // Shard 0 is the queues of an engine without shards, so raising QUEUE_SHARDS keeps them.
    expect(h.engine.queues.journeys).toBe(shards[0]!.journeys);
  });

  it("erases a customer's jobs from their shard", async () => {
    const id = customersOfEveryShard(1).find((c) => shardOf(c, SHARDS) !== 0)!;
    const opId = await welcomed(h.engine, id);
    const queue = h.engine.queues.forCustomer(id).deliveries.email;
    expect(await queue.getJob(opId)).toBeDefined();

    const result = await h.engine.erase(id);
    expect(result.jobsRemoved).toBeGreaterThanOrEqual(1);
    expect(await queue.getJob(opId)).toBeUndefined();
  });

  it.runIf(ON_CLUSTER)('puts the three shards of the prefix `chorus` on the three masters', async () => {
    const slots = await h.ctx.redis.cluster('SLOTS');
    const masterOf = (slot: number) => {
      const [, , master] = slots.find(([from, to]) => slot >= from && slot <= to)!;
      return `${master![0]}:${master![1]}`;
    };
    const engine = onboardingEngine({ redis: h.ctx.redis, prefix: 'chorus' }, undefined, {
      queueShards: SHARDS,
    });
    try {
      const masters = engine.queues.shards.map((shard) => masterOf(calculateSlot(shard.prefix)));
      expect(new Set(masters).size).toBe(masterNodes(h.ctx.redis).length);
    } finally {
      await engine.close();
    }
  });
});

describe('changing the shard count while jobs wait', () => {
  let ctx: ReturnType<typeof testRedis>;
  let outbox: ReturnType<typeof testDelivery>;
  beforeEach(() => {
    ctx = testRedis();
    outbox = testDelivery(ctx.redis, ctx.prefix, [onboarding]);
  });
  afterEach(async () => {
    outbox.cleanup();
    await ctx.cleanup();
  });

  /**
   * An engine on the test's prefix with `queueShards`. Its first sweep runs at once and rescues
   * the inbox of every stranded drain job (not its timers or sends, had it any): so the tests
   * prove the workers by the queues the jobs wait in, not by the welcomes alone.
   */
  const engineWith = (queueShards: number) =>
    onboardingEngine(ctx, outbox, { queueShards, sweepIntervalMs: 3_600_000 });

  /** Signs `ids` up through an engine with `queueShards` and no workers: their jobs wait. */
  async function acceptedWith(queueShards: number, ids: readonly string[]): Promise<void> {
    const engine = engineWith(queueShards);
    for (const id of ids) {
      await engine.identify({ userId: id, traits: { email: `${id}@example.com` } });
      await engine.track({ userId: id, event: 'Signed Up', properties: { plan: 'pro' } });
    }
    await engine.close();
  }

  /** Runs workers with `queueShards` until every one of `ids` has been sent the welcome. */
  async function workedWith(queueShards: number, ids: readonly string[], check?: () => Promise<void>) {
    const engine = engineWith(queueShards);
    engine.startWorkers();
    try {
      for (const id of ids)
        await eventually(async () => (await engine.customer(id)).messages[0]?.status === 'sent');
      await check?.();
    } finally {
      await engine.close();
    }
  }

  /** Shard queues of the test's prefix, to look into shards an engine may not have. */
  function shardsOf(count: number) {
    const queues = createQueues(ctx.redis, ctx.prefix, count);
    return { shards: queues.shards, close: () => Promise.all(allQueues(queues).map((q) => q.close())) };
  }

  it('raised: every shard stays where it was, and the workers with the larger count empty it', async () => {
    const ids = Array.from({ length: 12 }, (_, i) => customerInVariant('tips', `raise-${i}`));
    await acceptedWith(2, ids);
    const two = shardsOf(2);
    const three = shardsOf(3);
    try {
      expect(await two.shards[1]!.journeys.getWaitingCount()).toBeGreaterThan(0);
      // A stranded drain job would only have its inbox rescued by a sweep, never its timers or sends.
      expect(three.shards[1]!.prefix).toBe(two.shards[1]!.prefix);
      await workedWith(3, ids, async () => {
        expect(await two.shards[1]!.journeys.getWaitingCount()).toBe(0);
      });
    } finally {
      await two.close();
      await three.close();
    }
  });

  it('lowered: the workers with the smaller count take the jobs of the shards dropped', async () => {
    const ids = customersOfEveryShard(2);
    await acceptedWith(SHARDS, ids);
    const all = shardsOf(SHARDS);
    try {
      await workedWith(1, ids, async () => {
        for (const shard of all.shards.slice(1))
          await eventually(async () => (await shard.journeys.getWaitingCount()) === 0);
      });
    } finally {
      await all.close();
    }
  });
});

/** Runs `use` with an engine on `ctx`'s prefix that has one shard, as while QUEUE_SHARDS is being changed. */
async function withOneShard<T>(
  ctx: { redis: RedisConnection; prefix: string },
  use: (engine: Engine) => Promise<T>,
  options: { sweepIntervalMs?: number } = {},
): Promise<T> {
  const outbox = testDelivery(ctx.redis, ctx.prefix, [onboarding]);
  const engine = onboardingEngine(ctx, outbox, options);
  try {
    return await use(engine);
  } finally {
    await engine.close();
    outbox.cleanup();
  }
}

describe("a sharded engine's timer wheel", () => {
  // No workers: their first sweep, at start, would promote some of the wheel's timers before the test does.
  const h = engineEachTest({ queueShards: SHARDS });

  it("parks a long timer in its shard's wheel and promotes it to its shard's journey queue", async () => {
    const ids = customersOfEveryShard(1);
    const timers = ids.map((id) => timerJobId(id, 'onboarding.1', 3, 0));
    // Due in a minute: inside the sweep's horizon, so promoted now, and not firing during the test.
    await h.engine.timerWheel.add(timers.map((jobId) => ({ jobId, delayMs: 60_000 })));

    // Each in the wheel of its customer's shard.
    expect(await Promise.all(h.engine.timerWheel.keys.map((key) => h.ctx.redis.zcard(key)))).toEqual([
      1, 1, 1,
    ]);

    expect(await h.engine.timerWheel.promoteDue()).toBe(SHARDS);
    expect(await h.engine.timerWheel.waiting()).toBe(0);
    for (const [i, jobId] of timers.entries())
      expect(await shardHolding(h.engine, jobId, (shard) => shard.journeys)).toBe(shardOf(ids[i]!, SHARDS));
  });
});

describe('a process given fewer shards than another, while workers run', () => {
  const h = engineEachTest({ delivery: true, workers: true, queueShards: SHARDS });

  it("erases a customer's jobs from the shards its own count does not reach", async () => {
    const id = customersOfEveryShard(1).find((c) => shardOf(c, SHARDS) === 2)!;
    const opId = await welcomed(h.engine, id);
    const queue = h.engine.queues.shards[2]!.deliveries.email;
    expect(await queue.getJob(opId)).toBeDefined();

    const result = await withOneShard(h.ctx, (engine) => engine.erase(id));
    expect(result.jobsRemoved).toBeGreaterThanOrEqual(1);
    expect(await queue.getJob(opId)).toBeUndefined();
  });
});

describe('a process given fewer shards than another', () => {
  // No workers here: their first sweep would promote the wheel's timers before the test does.
  const h = engineEachTest({ queueShards: SHARDS });

  /**
   * The harness engine records its shards without waiting (a fire-and-forget write at creation):
   * a test that reads the record, or deletes it, waits for that write to land first.
   */
  const harnessShardsRecorded = () =>
    eventually(
      async () => (await h.ctx.redis.get(shardCountKey(h.ctx.prefix))) === String(SHARDS),
      5_000,
      "the harness engine's shard record",
    );

  /** Deletes the record of the harness engine's shards, as if no process with more had started. */
  async function forgetRecordedShards() {
    await harnessShardsRecorded();
    await h.ctx.redis.del(shardCountKey(h.ctx.prefix));
  }

  /** What the engine's HTTP app lists: the queues /metrics reports and those the dashboard shows. */
  async function listedQueues(app: Awaited<ReturnType<typeof createHttpApp>>) {
    const metrics = await app.inject({ method: 'GET', url: '/metrics' });
    const board = await app.inject({
      method: 'GET',
      url: '/admin/queues/api/queues',
      headers: { authorization: `Basic ${Buffer.from('ops:dashboard-secret').toString('base64')}` },
    });
    return {
      metrics: [...metrics.body.matchAll(/chorus_queue_jobs\{queue="([^"]+)",state="waiting"\}/g)].map(
        (m) => m[1],
      ),
      dashboard: (board.json() as { queues: Array<{ name: string }> }).queues.map((q) => q.name),
    };
  }

  function appOf(engine: Engine) {
    return createHttpApp({
      engine,
      redis: h.ctx.redis,
      apiKeys: ['test-key-0123456789abcdef'],
      dashboard: { user: 'ops', password: 'dashboard-secret', write: false },
      unsubscribeSecret: 'test-secret-of-sixteen',
    });
  }

  it("shows every recorded shard's queues on its dashboard and metrics", async () => {
    await harnessShardsRecorded();
    await withOneShard(h.ctx, async (engine) => {
      const app = await appOf(engine);
      try {
        const listed = await listedQueues(app);
        expect(listed.metrics).toEqual(expect.arrayContaining(['journeys-2', 'deliveries-email-2']));
        expect(listed.dashboard).toEqual(
          expect.arrayContaining(['journeys-1', 'journeys-2', 'deliveries-webhook-2']),
        );
      } finally {
        await app.close();
      }
    });
  });

  it('adds shards recorded after it started to its dashboard and metrics', async () => {
    await withOneShard(
      h.ctx,
      async (engine) => {
        await forgetRecordedShards();
        const app = await appOf(engine);
        try {
          expect((await listedQueues(app)).metrics).not.toContain('journeys-1');
          // As when a process with three shards starts afterwards.
          await recordShardCount(h.ctx.redis, h.ctx.prefix, SHARDS);
          const listed = await eventually(async () => {
            const now = await listedQueues(app);
            return now.dashboard.includes('journeys-2') && now.metrics.includes('journeys-2')
              ? now
              : undefined;
          });
          expect(listed.dashboard).toEqual(expect.arrayContaining(['journeys-1', 'deliveries-email-2']));
          expect(listed.metrics).toEqual(expect.arrayContaining(['journeys-1', 'journeys-2']));
        } finally {
          await app.close();
        }
      },
      { sweepIntervalMs: 200 },
    );
  });

  it('opens the queues of the shards beyond its count once, for every erasure', async () => {
    await withOneShard(h.ctx, async (engine) => {
      await engine.erase('nobody-1');
      const opened = [...engine.shards.beyond];
      expect(opened.map((shard) => shard.index)).toEqual([1, 2]);
      await engine.erase('nobody-2');
      expect(engine.shards.beyond).toHaveLength(2);
      for (const [i, shard] of engine.shards.beyond.entries()) expect(shard).toBe(opened[i]);
    });
  });

  it('empties the wheels of the shards beyond its count into its own, and promotes their timers', async () => {
    const id = customersOfEveryShard(1).find((c) => shardOf(c, SHARDS) === 2)!;
    const soon = timerJobId(id, 'onboarding.1', 3, 0);
    const later = timerJobId(id, 'onboarding.1', 4, 0);
    await h.engine.timerWheel.add([
      { jobId: soon, delayMs: 60_000 },
      { jobId: later, delayMs: 30 * 86_400_000 },
    ]);

    await withOneShard(h.ctx, async (engine) => {
      expect(await engine.timerWheel.promoteDue()).toBe(1);
      // The far one waits in this process's wheel now, due when it was.
      expect(await h.ctx.redis.zscore(engine.timerWheel.keys[0]!, later)).not.toBeNull();
      expect(await engine.timerWheel.waiting()).toBe(1);
    });
    expect(await h.ctx.redis.zcard(h.engine.timerWheel.keys[2]!)).toBe(0);
    // Into the queue its own count routes it to, which every worker with more shards takes too.
    expect(await h.engine.queues.journeys.getJob(soon)).toBeDefined();
  });

  it('starts workers on shards another process records after it started', async () => {
    await withOneShard(
      h.ctx,
      async (engine) => {
        // Started while nothing is recorded: it works its one shard only.
        await forgetRecordedShards();
        engine.startWorkers();
        await new Promise((resolve) => setTimeout(resolve, 300));
        // As when a process with three shards starts afterwards.
        await recordShardCount(h.ctx.redis, h.ctx.prefix, SHARDS);
        const ids = customersOfEveryShard(2);
        for (const id of ids) {
          await h.engine.identify({ userId: id, traits: { email: `${id}@example.com` } });
          await h.engine.track({ userId: id, event: 'Signed Up', properties: { plan: 'pro' } });
        }
        for (const id of ids)
          await eventually(async () => (await engine.customer(id)).messages[0]?.status === 'sent', 15_000);
        for (const shard of h.engine.queues.shards)
          await eventually(async () => (await shard.journeys.getWaitingCount()) === 0);
      },
      { sweepIntervalMs: 200 },
    );
  });

  it('reads an unreadable record as its own count, and the next record replaces it', async () => {
    const key = shardCountKey(h.ctx.prefix);
    await forgetRecordedShards();
    await h.ctx.redis.hset(key, 'not', 'a count');
    expect(await recordedShardCount(h.ctx.redis, h.ctx.prefix, 2)).toBe(2);
    await recordShardCount(h.ctx.redis, h.ctx.prefix, SHARDS);
    expect(await h.ctx.redis.get(key)).toBe(String(SHARDS));
    await h.ctx.redis.set(key, 'many');
    await recordShardCount(h.ctx.redis, h.ctx.prefix, 2);
    expect(await recordedShardCount(h.ctx.redis, h.ctx.prefix, 1)).toBe(2);
  });
});

describe('the shard count', () => {
  it('is refused outside 1 to 64 before anything is opened', async () => {
    const ctx = testRedis();
    try {
      for (const queueShards of [0, 65, 1.5])
        expect(() => onboardingEngine(ctx, undefined, { queueShards })).toThrow(QueueShardsError);
      expect(await scanKeys(ctx.redis, `*${ctx.prefix}*`)).toEqual([]);
    } finally {
      await ctx.cleanup();
    }
  });

  it('starts no worker when delivery workers are asked for and not configured', async () => {
    const ctx = testRedis();
    const engine = onboardingEngine(ctx, undefined);
    try {
      expect(() => engine.startWorkers()).toThrow(DeliveryNotConfiguredError);
      expect(await engine.queues.journeys.getWorkersCount()).toBe(0);
    } finally {
      await engine.close();
      await ctx.cleanup();
    }
  });
});
