import { randomUUID } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { BENCHMARKS, parseBenchNames, runBenchmarks, type AllOptions } from '../bench/run.js';
import { benchShards, shardsReport } from '../bench/shards.js';
import { formatTable } from '../bench/support.js';
import { scanKeys } from '../engine/index.js';
import { TEST_REDIS_URL, testRedis } from './support/redis.js';

// Speed is measured in bench/, never asserted here: this only keeps the benchmark code working.
const id = randomUUID().slice(0, 8);
const redisUrl = TEST_REDIS_URL;
const tiny: AllOptions = {
  transitions: {
    redisUrl,
    prefix: `chorus-test-bt-${id}`,
    chains: 5,
    steps: 3,
    concurrency: 10,
    rounds: 1,
    warmupRounds: 1,
  },
  ingest: {
    redisUrl,
    prefix: `chorus-test-bi-${id}`,
    events: 40,
    concurrency: 8,
    rounds: 1,
    warmupRounds: 1,
  },
  sends: {
    redisUrl,
    prefix: `chorus-test-bs-${id}`,
    emails: 10,
    concurrency: 5,
    rounds: 1,
    warmupRounds: 1,
    maxConnections: 2,
    nagle: false,
  },
  latency: {
    redisUrl,
    prefix: `chorus-test-bl-${id}`,
    rates: [20],
    durationMs: 500,
    customers: 10,
    warmupMs: 100,
    concurrency: 10,
    maxConnections: 2,
  },
  lateness: {
    redisUrl,
    prefix: `chorus-test-bd-${id}`,
    customers: 40,
    windowMs: 300,
    delayMs: 600,
    concurrency: 10,
  },
  memory: { redisUrl, prefix: `chorus-test-bm-${id}`, customers: 20 },
  enrol: {
    redisUrl,
    prefix: `chorus-test-be-${id}`,
    customers: 150,
    batch: 50,
    inFlight: 2,
    concurrency: 10,
  },
};
const admin = testRedis();

afterAll(() => admin.cleanup());

describe('the benchmarks', () => {
  it('run end to end with tiny counts, give every row a figure and leave no keys behind', async () => {
    const log: string[] = [];
    const rows = await runBenchmarks(BENCHMARKS, tiny, (text) => log.push(text));

    expect(rows.filter((row) => row.figure.startsWith('failed'))).toEqual([]);
    expect(rows.map((row) => row.measure.replace(/achieved \d+\/s/, 'achieved N/s'))).toEqual([
      'transitions/s vs raw chained BullMQ',
      '(process CPU per transition)',
      'accepted events/s vs bare Fastify queue.add',
      '(process CPU per accepted event, client included)',
      'emails/s: delivery path vs pooled nodemailer',
      '  (email adapter alone)',
      '  (bare BullMQ queue in front of it)',
      'webhook→SMTP p50 at 20/s (achieved N/s)',
      'webhook→SMTP p99 at 20/s (achieved N/s)',
      // Read from /proc: these tests run on Linux.
      'worker process CPU at 20/s (share of a core)',
      'delayed-step lateness p50',
      'delayed-step lateness p99',
      'Redis bytes per parked customer vs floor',
      'enrol 150 customers via /v1/batch',
    ]);
    for (const row of rows) expect(row.chorus, row.measure).toMatch(/\d/);
    expect(formatTable(rows).split('\n')).toHaveLength(rows.length + 2);
    for (const { prefix } of Object.values(tiny))
      expect(await scanKeys(admin.redis, `*${prefix}*`), prefix).toEqual([]);
  }, 90_000);

  it('select benchmarks by name and refuse unknown ones', () => {
    expect(parseBenchNames([])).toEqual([...BENCHMARKS]);
    expect(parseBenchNames(['latency', 'transitions'])).toEqual(['transitions', 'latency']);
    expect(parseBenchNames(['emails'])).toEqual(['sends']);
    expect(() => parseBenchNames(['speed'])).toThrow(/unknown benchmark speed; choose from: transitions/);
  });

  it('measure queue shards on a private cluster of their own', async () => {
    const o = { customers: 10, rounds: 1 };
    const report = shardsReport(await benchShards(o), o);
    expect(report).toMatch(/QUEUE_SHARDS=1 \(baseline\) +\d+ µs +\d+ µs +\d+ µs/);
    expect(report).toMatch(/busiest master per event: \d+% of the baseline's/);
  }, 90_000);
});
