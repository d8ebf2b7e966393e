import { spawn, type ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CoreMessageCatalog, createEngine, readJourneyCounts, type Engine } from '../../engine/index.js';
import { sequence } from '../fixtures/journeys-sequence/sequence.js';
import { eventually, ON_CLUSTER, TEST_REDIS_ENV, testRedis } from '../support/redis.js';
import { exited } from '../support/worker-process.js';

const WORKERS = 3;
const CUSTOMERS = 150;
const BEATS = 20;
const SHARDS = 3;
/**
 * Each worker's QUEUE_SHARDS. On the cluster the queues are split over its three masters. On one
 * Redis, one worker still has a single shard, as while QUEUE_SHARDS is being changed: it works
 * the other two shards as well, as the producer recorded them.
 */
const WORKER_SHARDS = ON_CLUSTER ? [SHARDS, SHARDS, SHARDS] : [1, SHARDS, SHARDS];

/**
 * Scaling out as the README describes it: three `workers/worker.ts` processes share one Redis
 * (or one Redis Cluster, in the cluster run) while events for many customers arrive at once,
 * their jobs spread over three queue shards.
 */
describe(`three worker processes against one ${ON_CLUSTER ? 'Redis Cluster' : 'Redis'}`, () => {
  let ctx: ReturnType<typeof testRedis>;
  let producer: Engine;
  const workers: ChildProcess[] = [];

  /** Starts a worker and resolves once it says it has started. */
  const startWorker = (index: number) =>
    new Promise<ChildProcess>((resolve, reject) => {
      const child = spawn(process.execPath, ['--import', 'tsx', 'workers/worker.ts'], {
        env: {
          ...process.env,
          ...TEST_REDIS_ENV,
          REDIS_PREFIX: ctx.prefix,
          JOURNEYS_DIR: 'test/fixtures/journeys-sequence',
          TEMPLATES_DIR: 'templates',
          WORKER_ROLES: 'journeys',
          JOURNEY_CONCURRENCY: '20',
          QUEUE_SHARDS: String(WORKER_SHARDS[index]),
          LOG_LEVEL: 'info',
        },
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      workers.push(child);
      let output = '';
      child.stdout!.on('data', (chunk: Buffer) => {
        output += chunk.toString();
        if (output.includes('chorus engine started')) resolve(child);
      });
      child.once('exit', (code) => reject(new Error(`worker ${index} exited with ${code}:\n${output}`)));
    });

  beforeAll(async () => {
    ctx = testRedis();
    producer = createEngine({
      redis: ctx.redis,
      prefix: ctx.prefix,
      journeys: [sequence],
      messages: CoreMessageCatalog.fromDirectory('templates'),
      queueShards: SHARDS,
    });
    await Promise.all(Array.from({ length: WORKERS }, (_, i) => startWorker(i)));
    // Three cold tsx start-ups at once on a busy two-core machine take a while.
  }, 90_000);

  afterAll(async () => {
    for (const child of workers) {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        await exited(child);
      }
    }
    await producer.close();
    await ctx.cleanup();
  });

  it('applies every event of every customer exactly once and in the order it was accepted', async () => {
    const ids = Array.from({ length: CUSTOMERS }, (_, i) => `seq-${i}`);
    // Customers in parallel; each customer's events one after another, as one client sends them.
    await Promise.all(
      ids.map(async (userId) => {
        await producer.track({ userId, event: 'Begin', messageId: `${userId}-begin` });
        for (let n = 1; n <= BEATS; n++)
          await producer.track({ userId, event: 'Beat', properties: { n }, messageId: `${userId}-${n}` });
        await producer.track({ userId, event: 'Close', messageId: `${userId}-close` });
      }),
    );

    await eventually(
      async () => {
        const views = await Promise.all(ids.map((id) => producer.customer(id)));
        return views.every((view) => view.instances[0]?.status === 'done' && view.pendingEvents === 0);
      },
      60_000,
      'every customer to be closed',
    );
    const expected = Array.from({ length: BEATS }, (_, i) => i + 1);
    for (const userId of ids) {
      const view = await producer.customer(userId);
      expect(view.instances, userId).toHaveLength(1);
      expect(view.instances[0], userId).toMatchObject({ status: 'done', state: 'closed' });
      expect((view.instances[0]!.context.data as { seen: number[] }).seen, userId).toEqual(expected);
      expect(view.deadLetters, userId).toEqual([]);
    }
    const [counts] = await readJourneyCounts(ctx.redis, ctx.prefix, 'sequence');
    expect(counts).toMatchObject({ entered: CUSTOMERS, active: 0, exits: { closed: CUSTOMERS } });
    // Every shard's journey queue carried a share of the jobs.
    const metrics = await Promise.all(
      producer.queues.shards.map((shard) => shard.journeys.getMetrics('completed')),
    );
    expect(metrics.map((m) => m.meta.count > 0)).toEqual([true, true, true]);
    // All three shared the work to the end: none died along the way.
    expect(workers.map((child) => child.exitCode)).toEqual([null, null, null]);
  }, 90_000);
});
