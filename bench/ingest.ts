// Durably accepted events per second over HTTP, against a bare Fastify route that adds each
// event to a BullMQ queue, on the same Redis, in one process, with the same client.
//
// Baseline: POST /track → `queue.add('event', body)` → 202. No validation, no auth.
// Chorus:   POST /v1/track through the real app: API key, rate limit, zod validation, the
//           customer's inbox (Lua, with messageId de-duplication) and a drain job → 200.
//
// Usage: npm run bench:ingest
//        (env: REDIS_URL, BENCH_EVENTS, BENCH_CONCURRENCY, BENCH_ROUNDS, BENCH_WARMUP_ROUNDS)
import type { Agent } from 'node:http';
import { Queue } from 'bullmq';
import Fastify from 'fastify';
import { Redis } from 'ioredis';
import {
  API_REDIS_OPTIONS,
  createEngine,
  createHttpApp,
  loadTemplates,
  type Journey,
} from '../engine/index.js';
import { yueTeaLifecycle } from '../journeys/yue-tea-lifecycle.js';
import {
  DEFAULT_REDIS_URL,
  deleteBenchKeys,
  envNumber,
  isMain,
  keepAliveAgent,
  percent,
  perSecond,
  post,
  type BenchRow,
} from './support.js';

export const BENCH_API_KEY = 'bench-key-0123456789abcdef';

export interface IngestOptions {
  redisUrl: string;
  prefix: string;
  events: number;
  concurrency: number;
  rounds: number;
  /** Untimed rounds of every side first, so each is measured with its code already compiled. */
  warmupRounds: number;
}

export interface IngestFigures {
  options: IngestOptions;
  /** Best round, accepted events per second. */
  baseline: number;
  chorus: number;
  ratio: number;
  /**
   * Least CPU (user + system, µs) of this process per event over a round. The client runs in the
   * same process and costs the same on both sides, so the difference is the servers' own.
   */
  baselineCpuUs: number;
  chorusCpuUs: number;
}

/** One round of one side: accepted events per second, and process CPU µs per event. */
interface Round {
  rate: number;
  cpuUs: number;
}

export function ingestOptionsFromEnv(): IngestOptions {
  return {
    redisUrl: process.env.REDIS_URL ?? DEFAULT_REDIS_URL,
    prefix: `bench-ingest-${process.pid}`,
    events: envNumber('BENCH_EVENTS', 10_000),
    concurrency: envNumber('BENCH_CONCURRENCY', 64),
    rounds: envNumber('BENCH_ROUNDS', 2),
    warmupRounds: envNumber('BENCH_WARMUP_ROUNDS', 1),
  };
}

/** Posts `events` events with `concurrency` requests in flight; returns the rate and CPU per event. */
async function drive(
  o: IngestOptions,
  agent: Agent,
  url: string,
  headers: Record<string, string>,
  round: string,
  /** Awaited before the clock stops: work the server still does for the events answered. */
  settle: () => Promise<void> = async () => undefined,
): Promise<Round> {
  const target = new URL(url);
  let next = 0;
  const cpu = process.cpuUsage();
  const started = performance.now();
  await Promise.all(
    Array.from({ length: o.concurrency }, async () => {
      while (next < o.events) {
        const i = next++;
        const body = JSON.stringify({
          userId: `bench-${round}-${i}`,
          event: 'Product Viewed',
          properties: { name: 'Osmanthus Oolong', price: 18 },
          messageId: `bench-${round}-${i}`,
        });
        const status = await post(agent, target, headers, body);
        if (status < 200 || status > 299) throw new Error(`answered ${status}`);
      }
    }),
  );
  await settle();
  const seconds = (performance.now() - started) / 1000;
  const used = process.cpuUsage(cpu);
  return { rate: o.events / seconds, cpuUs: (used.user + used.system) / o.events };
}

/** The baseline app: a bare Fastify route that adds the body to a BullMQ queue and answers 202. */
export async function bareIngestApp(redisUrl: string, queuePrefix: string) {
  const redis = new Redis(redisUrl, { enableOfflineQueue: false });
  await new Promise((resolve) => redis.once('ready', resolve));
  const queue = new Queue('events', { connection: redis, prefix: queuePrefix });
  const app = Fastify();
  app.post('/track', async (request, reply) => {
    await queue.add('event', request.body as object, { removeOnComplete: true });
    return reply.code(202).send({ ok: true });
  });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const port = (app.server.address() as { port: number }).port;
  return {
    url: `http://127.0.0.1:${port}/track`,
    async close() {
      await app.close();
      await queue.close();
      redis.disconnect();
    },
  };
}

/**
 * The real HTTP app over an engine, listening on a free port, with a rate limit too high to bite.
 * `redis` (the caller's, fail-fast as `workers/api.ts` makes it) serves the app's own calls.
 */
export async function chorusApiApp(redis: Redis, engine: ReturnType<typeof createEngine>) {
  const app = await createHttpApp({
    engine,
    redis,
    apiKeys: [BENCH_API_KEY],
    dashboard: { user: 'bench', password: 'bench-password', write: false },
    unsubscribeSecret: 'bench-unsubscribe-secret',
    rateLimit: { max: 1e9, windowMs: 60_000 },
    bodyLimit: 4 * 1024 * 1024,
  });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const port = (app.server.address() as { port: number }).port;
  return {
    base: `http://127.0.0.1:${port}`,
    headers: { authorization: `Bearer ${BENCH_API_KEY}` },
    async close() {
      await app.close();
    },
  };
}

async function bareFastify(o: IngestOptions, agent: Agent, round: string): Promise<Round> {
  const app = await bareIngestApp(o.redisUrl, `{${o.prefix}-raw}`);
  try {
    return await drive(o, agent, app.url, {}, round);
  } finally {
    await app.close();
  }
}

async function chorus(o: IngestOptions, agent: Agent, round: string): Promise<Round> {
  // As workers/api-server.ts connects: fail-fast and auto-pipelined.
  const redis = new Redis(o.redisUrl, { ...API_REDIS_OPTIONS });
  await new Promise((resolve) => redis.once('ready', resolve));
  const journeys: Journey[] = [yueTeaLifecycle];
  const templates = loadTemplates('templates', { journeys });
  const engine = createEngine({ redis, prefix: o.prefix, journeys, messages: templates.catalog });
  const api = await chorusApiApp(redis, engine);
  try {
    // Chorus answers once an event is stored; its drain jobs are added after: counted too.
    return await drive(o, agent, `${api.base}/v1/track`, api.headers, round, () => engine.settleIngest());
  } finally {
    await api.close();
    await engine.close();
    redis.disconnect();
  }
}

export async function benchIngest(o: IngestOptions): Promise<IngestFigures> {
  const agent = keepAliveAgent(o.concurrency);
  const cleaner = new Redis(o.redisUrl);
  try {
    const best = { raw: 0, chorus: 0, rawCpu: Infinity, chorusCpu: Infinity };
    for (let round = 0; round < o.warmupRounds + o.rounds; round++) {
      const raw = await bareFastify(o, agent, `r${round}`);
      const ours = await chorus(o, agent, `c${round}`);
      await deleteBenchKeys(cleaner, o.prefix, [`{${o.prefix}-raw}:*`]);
      if (round < o.warmupRounds) continue;
      best.raw = Math.max(best.raw, raw.rate);
      best.chorus = Math.max(best.chorus, ours.rate);
      best.rawCpu = Math.min(best.rawCpu, raw.cpuUs);
      best.chorusCpu = Math.min(best.chorusCpu, ours.cpuUs);
    }
    return {
      options: o,
      baseline: best.raw,
      chorus: best.chorus,
      ratio: best.chorus / best.raw,
      baselineCpuUs: best.rawCpu,
      chorusCpuUs: best.chorusCpu,
    };
  } finally {
    await deleteBenchKeys(cleaner, o.prefix, [`{${o.prefix}-raw}:*`]);
    cleaner.disconnect();
    agent.destroy();
  }
}

export function ingestReport(f: IngestFigures): string {
  const { events, concurrency, rounds } = f.options;
  return [
    `events: ${events}, concurrency ${concurrency}, best of ${rounds} after ${f.options.warmupRounds} untimed`,
    `bare Fastify + queue.add: ${Math.round(f.baseline)} events/s, ${Math.round(f.baselineCpuUs)} µs CPU/event`,
    `Chorus POST /v1/track:    ${Math.round(f.chorus)} events/s, ${Math.round(f.chorusCpuUs)} µs CPU/event (${(f.ratio * 100).toFixed(0)}% of the baseline; target 70%)`,
    `CPU ratio (baseline / Chorus, client included on both sides): ${((f.baselineCpuUs / f.chorusCpuUs) * 100).toFixed(0)}%`,
    '',
  ].join('\n');
}

export function ingestRows(f: IngestFigures): BenchRow[] {
  return [
    {
      measure: 'accepted events/s vs bare Fastify queue.add',
      baseline: perSecond(f.baseline),
      chorus: perSecond(f.chorus),
      figure: percent(f.ratio),
      target: '>= 70%',
      met: f.ratio >= 0.7,
    },
    {
      measure: '(process CPU per accepted event, client included)',
      baseline: `${Math.round(f.baselineCpuUs)} µs`,
      chorus: `${Math.round(f.chorusCpuUs)} µs`,
      figure: percent(f.baselineCpuUs / f.chorusCpuUs),
      target: '-',
      met: undefined,
    },
  ];
}

if (isMain(import.meta.url)) {
  process.stdout.write(ingestReport(await benchIngest(ingestOptionsFromEnv())));
}
