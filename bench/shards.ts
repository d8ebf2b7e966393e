// How queue shards spread Redis's work over the masters of a Redis Cluster.
//
// A private three-master Redis Cluster (redis-server and redis-cli 7 on the PATH) takes the same
// load twice per round: BENCH_CUSTOMERS customers each identified, then entering the onboarding
// journey on `Signed Up` (a step and a welcome email through the outbox adapter), first with one
// set of queues (QUEUE_SHARDS=1, the baseline), then with three shards. Each master's CPU (INFO
// cpu) is read before and after, and the figure is the busiest master's CPU per event: with
// one set of queues that is the master holding BullMQ's slot, and it is what caps the cluster.
//
// The machine's cores are shared by the three masters and this process, so events/s here says
// little; what Redis spends per event, and on which master, does not depend on that.
//
// Usage: npm run bench:shards   (env: BENCH_CUSTOMERS, BENCH_ROUNDS)
import {
  connectRedis,
  createEngine,
  deleteKeysMatching,
  engineKeyPatterns,
  masterNodes,
  RedisClusterNodes,
  type RedisConnection,
} from '../engine/index.js';
import { onboarding } from '../test/fixtures/journeys/onboarding.js';
import { testDelivery } from '../test/support/delivery.js';
import { startRedisCluster } from '../test/support/redis-cluster.js';
import { customerInVariant } from '../test/support/variants.js';
import { envNumber, isMain, sleep } from './support.js';

export interface ShardsOptions {
  customers: number;
  rounds: number;
}

export function shardsOptionsFromEnv(): ShardsOptions {
  return { customers: envNumber('BENCH_CUSTOMERS', 1500), rounds: envNumber('BENCH_ROUNDS', 2) };
}

/** Redis CPU per event, in µs, on each master. */
interface Spread {
  shards: number;
  perMaster: number[];
}

/** Each master's CPU time so far (user + system), in µs. */
async function mastersCpu(redis: RedisConnection): Promise<number[]> {
  return Promise.all(
    masterNodes(redis).map(async (node) => {
      const info = await node.info('cpu');
      const field = (name: string) => Number(new RegExp(`${name}:([\\d.]+)`).exec(info)?.[1] ?? NaN);
      return (field('used_cpu_sys') + field('used_cpu_user')) * 1e6;
    }),
  );
}

async function load(
  redis: RedisConnection,
  o: ShardsOptions,
  shards: number,
  round: number,
): Promise<Spread> {
  const prefix = `chorus-bench-shards-${shards}-${round}`;
  const outbox = testDelivery(redis, prefix, [onboarding]);
  const engine = createEngine({
    redis,
    prefix,
    journeys: [onboarding],
    messages: outbox.messages,
    delivery: outbox.delivery,
    queueShards: shards,
  });
  try {
    engine.startWorkers();
    await Promise.all(engine.queues.shards.map((shard) => shard.journeys.waitUntilReady()));
    // Customers of the split's `tips` arm, so every one is sent the welcome.
    const ids = Array.from({ length: o.customers }, (_, i) => customerInVariant('tips', `${prefix}-${i}`));
    const before = await mastersCpu(redis);
    await Promise.all(
      ids.map(async (userId) => {
        await engine.identify({ userId, traits: { email: `${userId}@example.com` } });
        await engine.track({ userId, event: 'Signed Up', properties: { plan: 'pro' } });
      }),
    );
    for (;;) {
      // BullMQ's completed count (its metrics), not the completed list, which keeps the last 10,000.
      const sent = await Promise.all(
        engine.queues.shards.map(async (s) => (await s.deliveries.email.getMetrics('completed')).meta.count),
      );
      if (sent.reduce((a, b) => a + b, 0) >= o.customers) break;
      await sleep(50);
    }
    const after = await mastersCpu(redis);
    return { shards, perMaster: after.map((cpu, i) => (cpu - before[i]!) / (2 * o.customers)) };
  } finally {
    await engine.close();
    outbox.cleanup();
    await deleteKeysMatching(redis, engineKeyPatterns(prefix));
  }
}

export async function benchShards(o: ShardsOptions): Promise<{ one: Spread; three: Spread }> {
  const cluster = await startRedisCluster();
  const redis = connectRedis(RedisClusterNodes.parse(cluster.nodes.join(',')), {
    maxRetriesPerRequest: null,
  });
  const busiest = (s: Spread) => Math.max(...s.perMaster);
  try {
    await redis.ping();
    let one: Spread | undefined;
    let three: Spread | undefined;
    // An untimed round first, then the least busiest-master figure of each side.
    for (let round = 0; round <= o.rounds; round++) {
      const a = await load(redis, o, 1, round);
      const b = await load(redis, o, 3, round);
      if (round === 0) continue;
      if (!one || busiest(a) < busiest(one)) one = a;
      if (!three || busiest(b) < busiest(three)) three = b;
    }
    return { one: one!, three: three! };
  } finally {
    redis.disconnect();
    await cluster.stop();
  }
}

export function shardsReport({ one, three }: { one: Spread; three: Spread }, o: ShardsOptions): string {
  const row = (name: string, s: Spread) => {
    const total = s.perMaster.reduce((a, b) => a + b, 0);
    const top = Math.max(...s.perMaster);
    return (
      `${name.padEnd(30)} ${s.perMaster.map((v) => `${v.toFixed(0).padStart(4)} µs`).join('  ')}` +
      `   busiest ${top.toFixed(0)} µs, ${((100 * top) / total).toFixed(0)}% of ${total.toFixed(0)} µs`
    );
  };
  return [
    `queue shards on a 3-master Redis Cluster: ${o.customers} customers, 2 events each (identify; Signed Up, which sends an email), best of ${o.rounds} rounds after 1 untimed`,
    `Redis CPU per event on each master`,
    row('QUEUE_SHARDS=1 (baseline)', one),
    row('QUEUE_SHARDS=3', three),
    `busiest master per event: ${((100 * Math.max(...three.perMaster)) / Math.max(...one.perMaster)).toFixed(0)}% of the baseline's`,
    '',
  ].join('\n');
}

if (isMain(import.meta.url)) {
  const o = shardsOptionsFromEnv();
  process.stdout.write(shardsReport(await benchShards(o), o));
}
