// Time to enrol BENCH_ENROL customers (default 100,000) in a journey through the batch API.
//
// POST /v1/batch through the real app (createHttpApp), BENCH_ENROL_BATCH track calls per request
// (default and most 1000), BENCH_ENROL_IN_FLIGHT requests at a time, with the journey worker in
// the same process. The clock runs from the first request until the journey's counts say every
// customer has entered (their instance is committed, waiting 3 days on a pending timer). No
// target; the accepted rate (every batch answered 200) is printed too.
//
// Usage: npm run bench -- enrol   (env: REDIS_URL, BENCH_ENROL, BENCH_ENROL_BATCH, BENCH_ENROL_IN_FLIGHT)
import { Redis } from 'ioredis';
import { createEngine, readJourneyCounts } from '../engine/index.js';
import { chorusApiApp } from './ingest.js';
import {
  DEFAULT_REDIS_URL,
  deleteBenchKeys,
  envNumber,
  inFlight,
  isMain,
  keepAliveAgent,
  perSecond,
  post,
  until,
  type BenchRow,
} from './support.js';
import { waitJourney } from './wait-journey.js';

export interface EnrolOptions {
  redisUrl: string;
  prefix: string;
  customers: number;
  batch: number;
  inFlight: number;
  concurrency: number;
}

export interface EnrolFigures {
  options: EnrolOptions;
  /** From the first request to the last 200. */
  acceptedSeconds: number;
  /** From the first request to every customer enrolled. */
  enrolledSeconds: number;
  enrolledPerSecond: number;
}

export function enrolOptionsFromEnv(): EnrolOptions {
  return {
    redisUrl: process.env.REDIS_URL ?? DEFAULT_REDIS_URL,
    prefix: `chorus-bench-enrol-${process.pid}`,
    customers: envNumber('BENCH_ENROL', 100_000),
    batch: envNumber('BENCH_ENROL_BATCH', 1000),
    inFlight: envNumber('BENCH_ENROL_IN_FLIGHT', 4),
    concurrency: 50,
  };
}

export async function benchEnrol(o: EnrolOptions): Promise<EnrolFigures> {
  const redis = new Redis(o.redisUrl, { maxRetriesPerRequest: null });
  const apiRedis = new Redis(o.redisUrl, { enableOfflineQueue: false, maxRetriesPerRequest: 1 });
  await new Promise((resolve) => apiRedis.once('ready', resolve));
  const journey = waitJourney('bench-enrol', 'Bench Enrol', '3d');
  const engine = createEngine({
    redis,
    prefix: o.prefix,
    journeys: [journey],
    messages: { has: () => true },
  });
  const [worker] = engine.startWorkers({ deliveries: false, journeyConcurrency: o.concurrency });
  await worker!.waitUntilReady();
  const api = await chorusApiApp(apiRedis, engine);
  const agent = keepAliveAgent(o.inFlight);
  const url = new URL(`${api.base}/v1/batch`);
  const requests = Math.ceil(o.customers / o.batch);
  try {
    const started = performance.now();
    await inFlight(requests, o.inFlight, async (r) => {
      const from = r * o.batch;
      const batch = Array.from({ length: Math.min(o.batch, o.customers - from) }, (_, j) => ({
        type: 'track',
        userId: `enrol-${from + j}`,
        event: 'Bench Enrol',
        messageId: `enrol-${from + j}`,
      }));
      const status = await post(agent, url, api.headers, JSON.stringify({ batch }));
      if (status !== 200) throw new Error(`batch ${r} answered ${status}`);
    });
    const acceptedSeconds = (performance.now() - started) / 1000;
    await until(
      async () => (await readJourneyCounts(redis, o.prefix, journey.id))[0]?.entered === o.customers,
      `${o.customers} customers to enter the journey`,
      900_000,
      50,
    );
    const enrolledSeconds = (performance.now() - started) / 1000;
    return { options: o, acceptedSeconds, enrolledSeconds, enrolledPerSecond: o.customers / enrolledSeconds };
  } finally {
    agent.destroy();
    await api.close();
    await engine.close();
    apiRedis.disconnect();
    await deleteBenchKeys(redis, o.prefix);
    redis.disconnect();
  }
}

export function enrolReport(f: EnrolFigures): string {
  const { customers, batch, inFlight: lanes } = f.options;
  return [
    `enrol ${customers} customers via POST /v1/batch (${batch} per request, ${lanes} in flight)`,
    `all accepted (200) after ${f.acceptedSeconds.toFixed(1)} s: ${perSecond(customers / f.acceptedSeconds)}`,
    `all enrolled after      ${f.enrolledSeconds.toFixed(1)} s: ${perSecond(f.enrolledPerSecond)}`,
    '',
  ].join('\n');
}

/** `ingestBaseline`, when the ingest benchmark ran in the same run, puts the rate in proportion. */
export function enrolRows(f: EnrolFigures, ingestBaseline?: number): BenchRow[] {
  return [
    {
      measure: `enrol ${f.options.customers.toLocaleString('en-US')} customers via /v1/batch`,
      baseline: ingestBaseline === undefined ? '-' : perSecond(ingestBaseline),
      chorus: `${f.enrolledSeconds.toFixed(1)} s, ${perSecond(f.enrolledPerSecond)}`,
      figure:
        ingestBaseline === undefined
          ? `accepted in ${f.acceptedSeconds.toFixed(1)} s`
          : `${((f.enrolledPerSecond / ingestBaseline) * 100).toFixed(0)}% of bare ingest`,
      target: '-',
      met: undefined,
    },
  ];
}

if (isMain(import.meta.url)) {
  process.stdout.write(enrolReport(await benchEnrol(enrolOptionsFromEnv())));
}
