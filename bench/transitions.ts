// Journey transitions per second against raw chained BullMQ, on the same Redis, in one process.
//
// Baseline: CHAINS chains of STEPS jobs, each job adding the next one (no state).
// Chorus:   CHAINS customers in a journey that loops STEPS times through a 0 ms wait; every
//           step is a timer job that loads the customer, runs the xstate transition, commits the
//           snapshot and enqueues the next timer: the full durable path of one transition.
//
// Usage: npm run bench:transitions
//        (env: REDIS_URL, BENCH_CHAINS, BENCH_STEPS, BENCH_CONCURRENCY, BENCH_ROUNDS,
//        BENCH_WARMUP_ROUNDS)
import { Queue, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { assign } from 'xstate';
import { z } from 'zod';
import { createEngine, defineJourney } from '../engine/index.js';
import {
  DEFAULT_REDIS_URL,
  deleteBenchKeys,
  envNumber,
  isMain,
  percent,
  perSecond,
  sleep,
  type BenchRow,
} from './support.js';

export interface TransitionsOptions {
  redisUrl: string;
  /** Key prefix; each round writes under `<prefix>-<round>` and deletes it. */
  prefix: string;
  chains: number;
  steps: number;
  concurrency: number;
  rounds: number;
  /** Untimed rounds of every side first, so each is measured with its code already compiled. */
  warmupRounds: number;
}

export interface TransitionsFigures {
  options: TransitionsOptions;
  /** Best round, per second. */
  baseline: number;
  chorus: number;
  ratio: number;
  /**
   * Least CPU (user + system, µs) of this process per transition (per job for the baseline) over
   * a round. Redis is another process and not included. Steadier than the rates on a shared
   * machine: Node is the busy side, so the rates follow it.
   */
  baselineCpuUs: number;
  chorusCpuUs: number;
}

/** One round of one side: transitions per second, and process CPU µs per transition. */
interface Round {
  rate: number;
  cpuUs: number;
}

/** Times `run`, which makes `count` transitions, by the wall clock (its own) and by this process's CPU. */
async function cpuPer(count: number, run: () => Promise<number>): Promise<Round> {
  const cpu = process.cpuUsage();
  const rate = await run();
  const used = process.cpuUsage(cpu);
  return { rate, cpuUs: (used.user + used.system) / count };
}

export function transitionsOptionsFromEnv(): TransitionsOptions {
  return {
    redisUrl: process.env.REDIS_URL ?? DEFAULT_REDIS_URL,
    prefix: `chorus-bench-${process.pid}`,
    chains: envNumber('BENCH_CHAINS', 200),
    steps: envNumber('BENCH_STEPS', 50),
    concurrency: envNumber('BENCH_CONCURRENCY', 50),
    rounds: envNumber('BENCH_ROUNDS', 2),
    warmupRounds: envNumber('BENCH_WARMUP_ROUNDS', 1),
  };
}

function loopJourney(steps: number) {
  return defineJourney({
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
              { guard: ({ context }) => context.data.step >= steps, target: 'done' },
              { target: 'waiting' },
            ],
          },
          done: { tags: 'loyalty', type: 'final', entry: j.send('bench-done', ['webhook']) },
        },
      }),
  });
}

async function rawChainedBullmq(o: TransitionsOptions, prefix: string): Promise<number> {
  const connection = new Redis(o.redisUrl, { maxRetriesPerRequest: null });
  const queue = new Queue('chain', { connection, prefix: `${prefix}-raw` });
  let done = 0;
  let resolveAll!: () => void;
  const all = new Promise<void>((resolve) => (resolveAll = resolve));
  const worker = new Worker(
    'chain',
    async (job) => {
      const { chain, step } = job.data as { chain: number; step: number };
      if (step + 1 < o.steps) await queue.add('step', { chain, step: step + 1 }, { removeOnComplete: true });
      if (++done === o.chains * o.steps) resolveAll();
    },
    { connection, prefix: `${prefix}-raw`, concurrency: o.concurrency, autorun: false },
  );
  await worker.waitUntilReady();
  const started = performance.now();
  void worker.run();
  await queue.addBulk(
    Array.from({ length: o.chains }, (_, chain) => ({
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

async function chorusTransitions(o: TransitionsOptions, prefix: string): Promise<number> {
  const redis = new Redis(o.redisUrl, { maxRetriesPerRequest: null });
  const engine = createEngine({
    redis,
    prefix,
    journeys: [loopJourney(o.steps)],
    messages: { has: () => true },
  });
  const [worker] = engine.startWorkers({ deliveries: false, journeyConcurrency: o.concurrency });
  await worker!.waitUntilReady();
  const started = performance.now();
  await Promise.all(
    Array.from({ length: o.chains }, (_, i) => engine.track({ userId: `bench-${i}`, event: 'Bench Start' })),
  );
  // Every customer that finishes hands one delivery to the (idle) delivery queue.
  while ((await engine.queues.deliveries.webhook.getWaitingCount()) < o.chains) await sleep(5);
  const seconds = (performance.now() - started) / 1000;
  await engine.close();
  redis.disconnect();
  // Entry plus one transition per step.
  return (o.chains * (o.steps + 1)) / seconds;
}

/** Runs both sides `rounds` times, alternating, and keeps the best round of each. */
export async function benchTransitions(o: TransitionsOptions): Promise<TransitionsFigures> {
  const admin = new Redis(o.redisUrl);
  const raw: Round[] = [];
  const chorus: Round[] = [];
  const clean = (round: number) =>
    deleteBenchKeys(admin, `${o.prefix}-${round}`, [`${o.prefix}-${round}-raw:*`]);
  try {
    for (let round = 0; round < o.warmupRounds + o.rounds; round++) {
      const timed = round >= o.warmupRounds;
      const rawRound = await cpuPer(o.chains * o.steps, () => rawChainedBullmq(o, `${o.prefix}-${round}`));
      await clean(round);
      const chorusRound = await cpuPer(o.chains * (o.steps + 1), () =>
        chorusTransitions(o, `${o.prefix}-${round}`),
      );
      await clean(round);
      if (timed) raw.push(rawRound);
      if (timed) chorus.push(chorusRound);
    }
  } finally {
    for (let round = 0; round < o.warmupRounds + o.rounds; round++) await clean(round);
    admin.disconnect();
  }
  const baseline = Math.max(...raw.map((r) => r.rate));
  const best = Math.max(...chorus.map((r) => r.rate));
  return {
    options: o,
    baseline,
    chorus: best,
    ratio: best / baseline,
    baselineCpuUs: Math.min(...raw.map((r) => r.cpuUs)),
    chorusCpuUs: Math.min(...chorus.map((r) => r.cpuUs)),
  };
}

export function transitionsReport(f: TransitionsFigures): string {
  const { chains, steps, concurrency, rounds } = f.options;
  const row = (name: string, value: number) =>
    `${name.padEnd(40)} ${Math.round(value).toString().padStart(8)} /s`;
  return [
    `transitions: ${chains} chains x ${steps} steps, concurrency ${concurrency}, best of ${rounds} rounds after ${f.options.warmupRounds} untimed`,
    row('raw chained BullMQ jobs (baseline)', f.baseline),
    row('Chorus journey transitions', f.chorus),
    `ratio: ${(f.ratio * 100).toFixed(1)}% of raw (target >= 50%)`,
    `CPU of this process per transition (least of the rounds): raw ${Math.round(f.baselineCpuUs)} µs, Chorus ${Math.round(f.chorusCpuUs)} µs (${((f.baselineCpuUs / f.chorusCpuUs) * 100).toFixed(0)}%)`,
    '',
  ].join('\n');
}

export function transitionsRows(f: TransitionsFigures): BenchRow[] {
  return [
    {
      measure: 'transitions/s vs raw chained BullMQ',
      baseline: perSecond(f.baseline),
      chorus: perSecond(f.chorus),
      figure: percent(f.ratio),
      target: '>= 50%',
      met: f.ratio >= 0.5,
    },
    {
      measure: '(process CPU per transition)',
      baseline: `${Math.round(f.baselineCpuUs)} µs`,
      chorus: `${Math.round(f.chorusCpuUs)} µs`,
      figure: percent(f.baselineCpuUs / f.chorusCpuUs),
      target: '-',
      met: undefined,
    },
  ];
}

if (isMain(import.meta.url)) {
  process.stdout.write(transitionsReport(await benchTransitions(transitionsOptionsFromEnv())));
}
