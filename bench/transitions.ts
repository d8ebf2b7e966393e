// Journey transitions per second against raw chained BullMQ, on the same Redis, in one process.
//
// Baseline: CHAINS chains of STEPS jobs, each job adding the next one (no state).
// Chorus:   CHAINS customers in a journey that loops STEPS times through a 0 ms wait; every
//           step is a timer job that loads the customer, runs the xstate transition, commits the
//           snapshot and enqueues the next timer: the full durable path of one transition.
//
// Usage: npm run bench   (env: REDIS_URL, BENCH_CHAINS, BENCH_STEPS, BENCH_CONCURRENCY, BENCH_ROUNDS)
import { Queue, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { assign } from 'xstate';
import { z } from 'zod';
import { createEngine, defineJourney } from '../engine/index.js';
import { deleteBenchKeys } from './support.js';

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const CHAINS = Number(process.env.BENCH_CHAINS ?? 200);
const STEPS = Number(process.env.BENCH_STEPS ?? 50);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 50);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 2);

const loop = defineJourney({
  id: 'bench-loop',
  version: 1,
  trigger: { event: 'Bench Start' },
  data: z.object({ step: z.number().default(0) }),
  reentry: 'always',
  machine: (j) =>
    j.createMachine({
      initial: 'waiting',
      states: {
        waiting: { tags: 'consideration', after: { 0: 'stepping' } },
        stepping: {
          tags: 'consideration',
          entry: assign({ data: ({ context }) => ({ step: context.data.step + 1 }) }),
          always: [
            { guard: ({ context }) => context.data.step >= STEPS, target: 'done' },
            { target: 'waiting' },
          ],
        },
        done: { tags: 'loyalty', type: 'final', entry: j.send('bench-done', ['webhook']) },
      },
    }),
});

async function rawChainedBullmq(prefix: string): Promise<number> {
  const connection = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
  const queue = new Queue('chain', { connection, prefix: `${prefix}-raw` });
  let done = 0;
  let resolveAll!: () => void;
  const all = new Promise<void>((resolve) => (resolveAll = resolve));
  const worker = new Worker(
    'chain',
    async (job) => {
      const { chain, step } = job.data as { chain: number; step: number };
      if (step + 1 < STEPS) await queue.add('step', { chain, step: step + 1 }, { removeOnComplete: true });
      if (++done === CHAINS * STEPS) resolveAll();
    },
    { connection, prefix: `${prefix}-raw`, concurrency: CONCURRENCY, autorun: false },
  );
  await worker.waitUntilReady();
  const started = performance.now();
  void worker.run();
  await queue.addBulk(
    Array.from({ length: CHAINS }, (_, chain) => ({
      name: 'step',
      data: { chain, step: 0 },
      opts: { removeOnComplete: true },
    })),
  );
  await all;
  const seconds = (performance.now() - started) / 1000;
  await worker.close();
  await queue.close();
  connection.disconnect();
  return done / seconds;
}

async function chorusTransitions(prefix: string): Promise<number> {
  const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
  const engine = createEngine({ redis, prefix, journeys: [loop], messages: { has: () => true } });
  const [worker] = engine.startWorkers({ deliveries: false, journeyConcurrency: CONCURRENCY });
  await worker!.waitUntilReady();
  const started = performance.now();
  await Promise.all(
    Array.from({ length: CHAINS }, (_, i) => engine.track({ userId: `bench-${i}`, event: 'Bench Start' })),
  );
  // Every customer that finishes hands one delivery to the (idle) delivery queue.
  while ((await engine.queues.deliveries.webhook.getWaitingCount()) < CHAINS)
    await new Promise((r) => setTimeout(r, 5));
  const seconds = (performance.now() - started) / 1000;
  await engine.close();
  redis.disconnect();
  // Entry plus one transition per step.
  return (CHAINS * (STEPS + 1)) / seconds;
}

async function main(): Promise<void> {
  const admin = new Redis(REDIS_URL);
  const prefix = `chorus-bench-${process.pid}`;
  const raw: number[] = [];
  const chorus: number[] = [];
  try {
    for (let round = 0; round < ROUNDS; round++) {
      raw.push(await rawChainedBullmq(`${prefix}-${round}`));
      await deleteBenchKeys(admin, `${prefix}-${round}`, [`${prefix}-${round}-raw:*`]);
      chorus.push(await chorusTransitions(`${prefix}-${round}`));
      await deleteBenchKeys(admin, `${prefix}-${round}`, [`${prefix}-${round}-raw:*`]);
    }
  } finally {
    for (let round = 0; round < ROUNDS; round++)
      await deleteBenchKeys(admin, `${prefix}-${round}`, [`${prefix}-${round}-raw:*`]);
    admin.disconnect();
  }
  const best = (values: number[]) => Math.max(...values);
  const ratio = best(chorus) / best(raw);
  const row = (name: string, value: number) =>
    `${name.padEnd(40)} ${Math.round(value).toString().padStart(8)} /s`;
  process.stdout.write(
    [
      `transitions: ${CHAINS} chains x ${STEPS} steps, concurrency ${CONCURRENCY}, best of ${ROUNDS} rounds`,
      row('raw chained BullMQ jobs (baseline)', best(raw)),
      row('Chorus journey transitions', best(chorus)),
      `ratio: ${(ratio * 100).toFixed(1)}% of raw (target >= 50%)`,
      '',
    ].join('\n'),
  );
}

await main();
