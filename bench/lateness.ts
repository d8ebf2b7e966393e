// Lateness of due delayed steps: how long after its due time a waiting customer's timer
// transition actually runs, with many customers due at times spread over a window.
//
// Chorus:   BENCH_LATE_CUSTOMERS customers enter a journey that waits BENCH_LATE_DELAY_MS, at a
//           steady pace over BENCH_LATE_WINDOW_SECONDS, so their steps fall due spread over the
//           same window. Lateness = the instance's last transition time (`updatedAt`) minus when
//           its wait was due (`enteredAt` + the delay): the timer job, the lease, the load, the
//           xstate transition.
// Baseline: bare BullMQ delayed jobs added at the same pace with the same delay, and a plain
//           worker; lateness = when the processor starts minus the job's timestamp + delay.
//
// Usage: npm run bench -- lateness
//        (env: REDIS_URL, BENCH_LATE_CUSTOMERS, BENCH_LATE_WINDOW_SECONDS, BENCH_LATE_DELAY_MS)
import { Queue, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { createEngine, readJourneyCounts, type DelayKey } from '../engine/index.js';
import {
  DEFAULT_REDIS_URL,
  deleteBenchKeys,
  distribution,
  envNumber,
  inFlight,
  isMain,
  ms,
  msDelta,
  sleep,
  until,
  type BenchRow,
  type Distribution,
} from './support.js';
import { waitJourney } from './wait-journey.js';

export interface LatenessOptions {
  redisUrl: string;
  prefix: string;
  customers: number;
  windowMs: number;
  /** The wait; longer than the window, so entering and firing overlap little. */
  delayMs: number;
  concurrency: number;
}

export interface LatenessFigures {
  options: LatenessOptions;
  baseline: Distribution;
  chorus: Distribution;
}

export function latenessOptionsFromEnv(): LatenessOptions {
  const windowMs = envNumber('BENCH_LATE_WINDOW_SECONDS', 10) * 1000;
  return {
    redisUrl: process.env.REDIS_URL ?? DEFAULT_REDIS_URL,
    prefix: `chorus-bench-late-${process.pid}`,
    customers: envNumber('BENCH_LATE_CUSTOMERS', 10_000),
    windowMs,
    delayMs: envNumber('BENCH_LATE_DELAY_MS', windowMs + 3000),
    concurrency: 50,
  };
}

/** Calls `start(i)` for i in [0, count) at a steady pace over `windowMs`, without waiting on them. */
async function paced(count: number, windowMs: number, start: (i: number) => Promise<unknown>): Promise<void> {
  const pending: Promise<unknown>[] = [];
  const began = performance.now();
  let i = 0;
  while (i < count) {
    const due = Math.min(count, Math.floor(((performance.now() - began) * count) / windowMs) + 1);
    while (i < due) pending.push(start(i++));
    if (i < count) await sleep(2);
  }
  await Promise.all(pending);
}

async function bareDelayedJobs(o: LatenessOptions): Promise<Distribution> {
  const connection = new Redis(o.redisUrl, { maxRetriesPerRequest: null });
  const prefix = `{${o.prefix}-raw}`;
  const queue = new Queue('timers', { connection, prefix });
  const lateness: number[] = [];
  const worker = new Worker(
    'timers',
    async (job) => {
      lateness.push(Date.now() - (job.timestamp + (job.opts.delay ?? 0)));
    },
    { connection, prefix, concurrency: o.concurrency },
  );
  await worker.waitUntilReady();
  try {
    await paced(o.customers, o.windowMs, (i) =>
      queue.add('timer', { c: i }, { delay: o.delayMs, removeOnComplete: true }),
    );
    await until(async () => lateness.length >= o.customers, 'the bare delayed jobs', o.delayMs + 120_000);
    return distribution(lateness);
  } finally {
    await worker.close();
    await queue.close();
    connection.disconnect();
  }
}

async function chorusWaits(o: LatenessOptions): Promise<Distribution> {
  const redis = new Redis(o.redisUrl, { maxRetriesPerRequest: null });
  const journey = waitJourney('bench-late', 'Bench Wait', `${o.delayMs}ms` as DelayKey);
  const engine = createEngine({
    redis,
    prefix: o.prefix,
    journeys: [journey],
    messages: { has: () => true },
  });
  const [worker] = engine.startWorkers({ deliveries: false, journeyConcurrency: o.concurrency });
  await worker!.waitUntilReady();
  const ids = Array.from({ length: o.customers }, (_, i) => `late-${i}`);
  try {
    await paced(o.customers, o.windowMs, (i) => engine.track({ userId: ids[i]!, event: 'Bench Wait' }));
    await until(
      async () => (await readJourneyCounts(redis, o.prefix, journey.id))[0]?.exits.done === o.customers,
      'every customer to finish the wait',
      o.delayMs + 180_000,
      50,
    );
    const lateness: number[] = [];
    await inFlight(ids.length, 100, async (i) => {
      const { instances } = await engine.customer(ids[i]!);
      for (const record of instances) lateness.push(record.updatedAt - (record.enteredAt + o.delayMs));
    });
    return distribution(lateness);
  } finally {
    await engine.close();
    redis.disconnect();
  }
}

export async function benchLateness(o: LatenessOptions): Promise<LatenessFigures> {
  const admin = new Redis(o.redisUrl);
  try {
    const baseline = await bareDelayedJobs(o);
    await deleteBenchKeys(admin, o.prefix, [`{${o.prefix}-raw}:*`]);
    const chorus = await chorusWaits(o);
    return { options: o, baseline, chorus };
  } finally {
    await deleteBenchKeys(admin, o.prefix, [`{${o.prefix}-raw}:*`]);
    admin.disconnect();
  }
}

export function latenessReport(f: LatenessFigures): string {
  const { customers, windowMs, delayMs } = f.options;
  const line = (name: string, d: Distribution) =>
    `${name.padEnd(28)} p50 ${ms(d.p50).padStart(8)}  p99 ${ms(d.p99).padStart(8)}  max ${ms(d.max).padStart(8)}  (${d.count})`;
  return [
    `delayed-step lateness: ${customers} customers due over ${windowMs / 1000} s, each after ${delayMs} ms`,
    line('bare BullMQ delayed jobs', f.baseline),
    line('Chorus wait steps', f.chorus),
    '',
  ].join('\n');
}

export function latenessRows(f: LatenessFigures): BenchRow[] {
  return [
    {
      measure: 'delayed-step lateness p50',
      baseline: ms(f.baseline.p50),
      chorus: ms(f.chorus.p50),
      figure: msDelta(f.chorus.p50 - f.baseline.p50),
      target: '-',
      met: undefined,
    },
    {
      measure: 'delayed-step lateness p99',
      baseline: ms(f.baseline.p99),
      chorus: ms(f.chorus.p99),
      figure: msDelta(f.chorus.p99 - f.baseline.p99),
      target: '<= 150 ms',
      met: f.chorus.p99 <= 150,
    },
  ];
}

if (isMain(import.meta.url)) {
  process.stdout.write(latenessReport(await benchLateness(latenessOptionsFromEnv())));
}
