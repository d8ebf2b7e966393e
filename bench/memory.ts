// Redis bytes per in-flight customer: customers parked in a wait step, against the floor of a
// bare snapshot string plus a bare BullMQ delayed job per customer.
//
// Chorus: BENCH_MEMORY_CUSTOMERS customers each send one event (with a messageId, as Segment
//         clients do) that enters them in a journey waiting 3 days; once every drain job has
//         run, the keys under the benchmark's prefixes are measured with `MEMORY USAGE key
//         SAMPLES 0` (whole key, key name and overhead included; sorted-set entries of BullMQ's
//         delayed set are inside that set's figure).
// Floor:  per customer, one `SET` of the same instance snapshot JSON Chorus stored, and one bare
//         BullMQ job with the same 3-day delay and data `{ c: <customer> }`.
//
// Keys whose size does not grow with the number of customers (BullMQ's capped event stream,
// queue meta, metrics, the journey counts) are left out of both sides and listed apart.
//
// Usage: npm run bench -- memory   (env: REDIS_URL, BENCH_MEMORY_CUSTOMERS)
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { createEngine, customerKeys, readJourneyCounts, scanKeys } from '../engine/index.js';
import { DEFAULT_REDIS_URL, deleteBenchKeys, envNumber, isMain, until, type BenchRow } from './support.js';
import { waitJourney } from './wait-journey.js';

export interface MemoryOptions {
  redisUrl: string;
  prefix: string;
  customers: number;
}

/** Bytes per customer by kind of key, and the queue-wide keys left out. */
export interface MemoryTally {
  perCustomer: number;
  byKind: Record<string, number>;
  fixed: Record<string, number>;
}

export interface MemoryFigures {
  options: MemoryOptions;
  chorus: MemoryTally;
  floor: MemoryTally;
  ratio: number;
  snapshotBytes: number;
}

export function memoryOptionsFromEnv(): MemoryOptions {
  return {
    redisUrl: process.env.REDIS_URL ?? DEFAULT_REDIS_URL,
    prefix: `chorus-bench-mem-${process.pid}`,
    customers: envNumber('BENCH_MEMORY_CUSTOMERS', 5000),
  };
}

const QUEUE_WIDE = /^(events|meta|id|marker|stalled-check|metrics:.*|repeat.*|de:.*|limiter)$/;
const QUEUE_LISTS = /^(wait|active|delayed|paused|prioritized|completed|failed|stalled|pc|waiting-children)$/;

/** A key's kind: its name with the customer, job or message id taken out. */
function kindOf(key: string, prefix: string): { kind: string; fixed: boolean } {
  // One sorted set, with an entry per parked customer.
  if (key === `{${prefix}}:timers`) return { kind: 'timer wheel', fixed: false };
  if (key.startsWith(`{${prefix}}:`)) {
    const [queue, ...rest] = key.slice(prefix.length + 3).split(':');
    const tail = rest.join(':');
    if (QUEUE_WIDE.test(tail)) return { kind: `bull ${queue}:${tail}`, fixed: true };
    if (QUEUE_LISTS.test(tail)) return { kind: `bull ${queue}:${tail}`, fixed: false };
    const suffix = rest.length > 1 ? `:${rest.slice(1).join(':')}` : '';
    return { kind: `bull ${queue}:<job>${suffix}`, fixed: false };
  }
  const local = key
    .slice(prefix.length + 1)
    .replace(/\{[^}]*\}/, '{c}')
    .replace(/:seen:.*$/, ':seen:<messageId>')
    .replace(/^s:.*$/, 's:<customer>');
  return { kind: local, fixed: !local.includes('{c}') && !local.startsWith('s:') };
}

/** Sums `MEMORY USAGE` of every key under the prefix (engine and BullMQ), by kind. */
async function tally(redis: Redis, prefix: string, customers: number): Promise<MemoryTally> {
  const keys = [...(await scanKeys(redis, `${prefix}:*`)), ...(await scanKeys(redis, `{${prefix}}:*`))];
  const byKind: Record<string, number> = {};
  const fixed: Record<string, number> = {};
  let total = 0;
  for (let i = 0; i < keys.length; i += 500) {
    const chunk = keys.slice(i, i + 500);
    const pipeline = redis.pipeline();
    for (const key of chunk) pipeline.call('MEMORY', 'USAGE', key, 'SAMPLES', '0');
    const replies = (await pipeline.exec()) ?? [];
    chunk.forEach((key, j) => {
      const bytes = Number(replies[j]?.[1] ?? 0);
      const { kind, fixed: isFixed } = kindOf(key, prefix);
      if (isFixed) fixed[kind] = (fixed[kind] ?? 0) + bytes;
      else {
        byKind[kind] = (byKind[kind] ?? 0) + bytes / customers;
        total += bytes;
      }
    });
  }
  return { perCustomer: total / customers, byKind, fixed };
}

async function chorusCustomers(o: MemoryOptions): Promise<{ tally: MemoryTally; snapshot: string }> {
  const redis = new Redis(o.redisUrl, { maxRetriesPerRequest: null });
  const journey = waitJourney('bench-mem', 'Bench Park', '3d');
  const engine = createEngine({
    redis,
    prefix: o.prefix,
    journeys: [journey],
    messages: { has: () => true },
  });
  const [worker] = engine.startWorkers({ deliveries: false, journeyConcurrency: 50 });
  await worker!.waitUntilReady();
  const ids = Array.from({ length: o.customers }, (_, i) => `mem-${i}`);
  try {
    for (let i = 0; i < ids.length; i += 500)
      await Promise.all(
        ids
          .slice(i, i + 500)
          .map((id) => engine.track({ userId: id, event: 'Bench Park', messageId: `park-${id}` })),
      );
    await until(
      async () => {
        const [counts] = await readJourneyCounts(redis, o.prefix, journey.id);
        const jobs = await engine.queues.journeys.getJobCounts('wait', 'active', 'delayed');
        return counts?.entered === o.customers && jobs.wait === 0 && jobs.active === 0;
      },
      'every customer to be parked',
      300_000,
      50,
    );
  } finally {
    await engine.close();
  }
  try {
    const state = customerKeys(o.prefix, ids[0]!).state;
    const snapshot = await redis.hget(state, `i:${journey.id}.1`);
    if (snapshot === null) throw new Error(`no instance snapshot in ${state}`);
    return { tally: await tally(redis, o.prefix, o.customers), snapshot };
  } finally {
    redis.disconnect();
  }
}

async function floorCustomers(o: MemoryOptions, snapshot: string): Promise<MemoryTally> {
  const floor = `${o.prefix}-floor`;
  const redis = new Redis(o.redisUrl, { maxRetriesPerRequest: null });
  const queue = new Queue('timers', { connection: redis, prefix: `{${floor}}` });
  try {
    for (let i = 0; i < o.customers; i += 500) {
      const batch = Array.from({ length: Math.min(500, o.customers - i) }, (_, j) => `mem-${i + j}`);
      const pipeline = redis.pipeline();
      for (const id of batch) pipeline.set(`${floor}:s:${id}`, snapshot);
      await pipeline.exec();
      await queue.addBulk(
        batch.map((id) => ({ name: 'timer', data: { c: id }, opts: { delay: 3 * 86_400_000 } })),
      );
    }
    return await tally(redis, floor, o.customers);
  } finally {
    await queue.close();
    redis.disconnect();
  }
}

export async function benchMemory(o: MemoryOptions): Promise<MemoryFigures> {
  const admin = new Redis(o.redisUrl);
  try {
    const { tally: chorus, snapshot } = await chorusCustomers(o);
    await deleteBenchKeys(admin, o.prefix);
    const floor = await floorCustomers(o, snapshot);
    return {
      options: o,
      chorus,
      floor,
      ratio: chorus.perCustomer / floor.perCustomer,
      snapshotBytes: Buffer.byteLength(snapshot),
    };
  } finally {
    await deleteBenchKeys(admin, o.prefix);
    await deleteBenchKeys(admin, `${o.prefix}-floor`);
    admin.disconnect();
  }
}

export function memoryReport(f: MemoryFigures): string {
  const kinds = (t: MemoryTally) =>
    Object.entries(t.byKind)
      .sort(([, a], [, b]) => b - a)
      .map(([kind, bytes]) => `  ${kind.padEnd(40)} ${bytes.toFixed(0).padStart(7)} B/customer`);
  const fixed = (t: MemoryTally) =>
    Object.entries(t.fixed).map(
      ([kind, bytes]) => `  ${kind.padEnd(40)} ${bytes.toString().padStart(7)} B in all`,
    );
  return [
    `Redis bytes per in-flight customer: ${f.options.customers} customers, snapshot JSON ${f.snapshotBytes} bytes`,
    `floor (SET snapshot + bare delayed job): ${f.floor.perCustomer.toFixed(0)} B/customer`,
    ...kinds(f.floor),
    `Chorus: ${f.chorus.perCustomer.toFixed(0)} B/customer (${f.ratio.toFixed(2)}x the floor; target <= 1.5x)`,
    ...kinds(f.chorus),
    'left out (queue-wide, not per customer):',
    ...fixed(f.chorus),
    '',
  ].join('\n');
}

export function memoryRows(f: MemoryFigures): BenchRow[] {
  return [
    {
      measure: 'Redis bytes per parked customer vs floor',
      baseline: `${f.floor.perCustomer.toFixed(0)} B`,
      chorus: `${f.chorus.perCustomer.toFixed(0)} B`,
      figure: `${f.ratio.toFixed(2)}x`,
      target: '<= 1.5x',
      met: f.ratio <= 1.5,
    },
  ];
}

if (isMain(import.meta.url)) {
  process.stdout.write(memoryReport(await benchMemory(memoryOptionsFromEnv())));
}
