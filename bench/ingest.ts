// Durably accepted events per second over HTTP, against a bare Fastify route that adds each
// event to a BullMQ queue, on the same Redis, in one process, with the same client.
//
// Baseline: POST /track → `queue.add('event', body)` → 202. No validation, no auth.
// Chorus:   POST /v1/track through the real app: API key, rate limit, zod validation, the
//           customer's inbox (Lua, with messageId de-duplication) and a drain job → 202.
//
// Usage: npm run bench:ingest   (env: REDIS_URL, BENCH_EVENTS, BENCH_CONCURRENCY, BENCH_ROUNDS)
import { Agent, request as httpRequest } from 'node:http';
import { Queue } from 'bullmq';
import Fastify from 'fastify';
import { Redis } from 'ioredis';
import { createEngine, createHttpApp } from '../engine/index.js';
import { loadTemplates } from '../engine/index.js';
import { yueTeaLifecycle } from '../journeys/yue-tea-lifecycle.js';
import { deleteBenchKeys } from './support.js';

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const EVENTS = Number(process.env.BENCH_EVENTS ?? 10_000);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 64);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 2);
const KEY = 'bench-key-0123456789abcdef';

// node:http with a keep-alive agent: fetch's own cost per request would otherwise dominate both sides.
const agent = new Agent({ keepAlive: true, maxSockets: CONCURRENCY });

function post(url: URL, headers: Record<string, string>, body: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const request = httpRequest(
      url,
      {
        method: 'POST',
        agent,
        headers: {
          ...headers,
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(body),
        },
      },
      (response) => {
        response.resume();
        response.on('end', () => resolve(response.statusCode ?? 0));
      },
    );
    request.on('error', reject);
    request.end(body);
  });
}

/** Posts EVENTS events with CONCURRENCY requests in flight; returns accepted events per second. */
async function drive(url: string, headers: Record<string, string>, round: string): Promise<number> {
  const target = new URL(url);
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < EVENTS) {
        const i = next++;
        const body = JSON.stringify({
          userId: `bench-${round}-${i}`,
          event: 'Product Viewed',
          properties: { name: 'Osmanthus Oolong', price: 18 },
          messageId: `bench-${round}-${i}`,
        });
        const status = await post(target, headers, body);
        if (status !== 202) throw new Error(`answered ${status}`);
      }
    }),
  );
  return EVENTS / ((performance.now() - started) / 1000);
}

async function bareFastify(prefix: string, round: string): Promise<number> {
  const redis = new Redis(REDIS_URL, { enableOfflineQueue: false });
  const queue = new Queue('events', { connection: redis, prefix: `{${prefix}-raw}` });
  const app = Fastify();
  app.post('/track', async (request, reply) => {
    await queue.add('event', request.body as object, { removeOnComplete: true });
    return reply.code(202).send({ ok: true });
  });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const port = (app.server.address() as { port: number }).port;
  try {
    return await drive(`http://127.0.0.1:${port}/track`, {}, round);
  } finally {
    await app.close();
    await queue.close();
    redis.disconnect();
  }
}

async function chorus(prefix: string, round: string): Promise<number> {
  const redis = new Redis(REDIS_URL, { enableOfflineQueue: false, maxRetriesPerRequest: 1 });
  await new Promise((resolve) => redis.once('ready', resolve));
  const templates = loadTemplates('templates', { journeys: [yueTeaLifecycle] });
  const engine = createEngine({ redis, prefix, journeys: [yueTeaLifecycle], messages: templates.catalog });
  const app = await createHttpApp({
    engine,
    redis,
    apiKeys: [KEY],
    dashboard: { user: 'bench', password: 'bench-password', write: false },
    unsubscribeSecret: 'bench-unsubscribe-secret',
    rateLimit: { max: 1e9, windowMs: 60_000 },
  });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const port = (app.server.address() as { port: number }).port;
  try {
    return await drive(`http://127.0.0.1:${port}/v1/track`, { authorization: `Bearer ${KEY}` }, round);
  } finally {
    await app.close();
    await engine.close();
    redis.disconnect();
  }
}

const prefix = `bench-ingest-${process.pid}`;
const cleaner = new Redis(REDIS_URL);
try {
  let best = { raw: 0, chorus: 0 };
  for (let round = 0; round < ROUNDS; round++) {
    const raw = await bareFastify(prefix, `r${round}`);
    const ours = await chorus(prefix, `c${round}`);
    best = { raw: Math.max(best.raw, raw), chorus: Math.max(best.chorus, ours) };
    await deleteBenchKeys(cleaner, prefix, [`{${prefix}-raw}:*`]);
  }
  const ratio = (100 * best.chorus) / best.raw;
  console.log(`events: ${EVENTS}, concurrency ${CONCURRENCY}, best of ${ROUNDS}`);
  console.log(`bare Fastify + queue.add: ${Math.round(best.raw)} events/s`);
  console.log(
    `Chorus POST /v1/track:    ${Math.round(best.chorus)} events/s (${ratio.toFixed(0)}% of the baseline; target 70%)`,
  );
} finally {
  await deleteBenchKeys(cleaner, prefix, [`{${prefix}-raw}:*`]);
  cleaner.disconnect();
  agent.destroy();
}
