// Webhook → SMTP latency at a paced, open-loop rate: from the HTTP request leaving the client to
// the SMTP sink accepting that email's DATA, on real sockets. The client and the sink run in this
// process; each side serves from two processes of its own, an API and a worker, as Chorus is
// deployed to scale out (bench/latency-processes.ts).
//
// Baseline: a bare Fastify route → `queue.add` | a BullMQ worker → pooled nodemailer (TCP_NODELAY
//           sockets) sending the pre-rendered `nudge` email.
// Chorus:   `workers/api.ts`: POST /v1/track `Notify` (API key, rate limit, zod, the customer's
//           inbox and drain job) | `workers/worker.ts`: the journey worker enrols them in
//           `notify`, whose first state sends `nudge` by email → the delivery worker (profile,
//           policy, ledger, rendering) → the email adapter. Customers are identified beforehand
//           (untimed).
//
// Each side sends at every rate in BENCH_LATENCY_RATES for BENCH_LATENCY_WARMUP_SECONDS, not
// counted, then on without a pause for BENCH_LATENCY_SECONDS. Emails are matched to requests by
// recipient (one customer per request, in turn).
//
// Usage: npm run bench -- latency
//        (env: REDIS_URL, BENCH_LATENCY_RATES, BENCH_LATENCY_SECONDS, BENCH_LATENCY_WARMUP_SECONDS,
//        BENCH_LATENCY_CUSTOMERS)
import type { Agent } from 'node:http';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { Redis } from 'ioredis';
import { createEngine } from '../engine/index.js';
import { notify } from '../test/fixtures/journeys/notify.js';
import {
  LATENCY_API_KEY,
  startBaselineProcesses,
  startChorusProcesses,
  type ServingProcesses,
} from './latency-processes.js';
import { processCpuSeconds } from './process-cpu.js';
import { waitForProfiles } from './sends.js';
import {
  DEFAULT_REDIS_URL,
  deleteBenchKeys,
  distribution,
  envNumber,
  isMain,
  keepAliveAgent,
  ms,
  msDelta,
  percent,
  post,
  sleep,
  startSink,
  type BenchRow,
  type Distribution,
  type Sink,
} from './support.js';

export interface LatencyOptions {
  redisUrl: string;
  prefix: string;
  /** Events per second to pace at, one run each. */
  rates: number[];
  durationMs: number;
  /** Distinct customers, used in turn (each gets an event every customers/rate seconds). */
  customers: number;
  /**
   * The first part of each rate's run, not counted: until V8 has optimised the hot paths (a few
   * seconds at 250/s), every request of the worker process costs several times more CPU, and a
   * shorter warm-up measured that start-up instead of the steady state.
   */
  warmupMs: number;
  /** Worker concurrency on both sides. */
  concurrency: number;
  maxConnections: number;
}

export function latencyOptionsFromEnv(): LatencyOptions {
  return {
    redisUrl: process.env.REDIS_URL ?? DEFAULT_REDIS_URL,
    prefix: `chorus-bench-latency-${process.pid}`,
    rates: (process.env.BENCH_LATENCY_RATES ?? '250,500').split(',').map(Number),
    durationMs: envNumber('BENCH_LATENCY_SECONDS', 10) * 1000,
    customers: envNumber('BENCH_LATENCY_CUSTOMERS', 1000),
    warmupMs: envNumber('BENCH_LATENCY_WARMUP_SECONDS', 5) * 1000,
    concurrency: 50,
    maxConnections: 5,
  };
}

export interface LatencyRun extends Distribution {
  rate: number;
  achieved: number;
  sent: number;
  /** Requests not answered 2xx, or emails not accepted within 30 s of the last request. */
  lost: number;
  /** The event loop's own delay over the run (p99, ms): how busy this one process was. */
  loopP99: number;
  /** This process's CPU time (user + system) over the run, as a share of one core. */
  cpu: number;
  /** The side's API and worker processes' CPU over the measured seconds, as shares of one core (Linux only). */
  serverCpu: { api: number | undefined; worker: number | undefined };
  /** Warm-up requests whose email had not been accepted yet when the measured seconds began. */
  backlogAtStart: number;
}

export interface LatencyFigures {
  options: LatencyOptions;
  baseline: LatencyRun[];
  chorus: LatencyRun[];
}

/** One side under test: where to post, with what, and how to stop it. */
interface Side {
  url: URL;
  headers: Record<string, string>;
  body(customer: string, i: number): string;
  pids: ServingProcesses['pids'];
  close(): Promise<void>;
}

/**
 * Fires requests on schedule (request i at start + i/rate) whether or not earlier ones have been
 * answered, and times each from being sent to its email's acceptance by the sink. The first
 * `o.warmupMs` of the stream are not counted: the measured requests follow them without a pause,
 * so they meet a side already running at that rate (a pause between a warm-up and the run let
 * every process go idle, and the first second after it was as slow as a cold start).
 */
async function pacedRun(
  o: LatencyOptions,
  side: Side,
  sink: Sink,
  agent: Agent,
  rate: number,
): Promise<LatencyRun> {
  const unmeasured = Math.round((rate * o.warmupMs) / 1000);
  const total = unmeasured + Math.max(1, Math.round((rate * o.durationMs) / 1000));
  const sentAt = new Map<string, Array<{ at: number; measured: boolean }>>();
  const latencies: number[] = [];
  let failed = 0;
  let settled = 0;
  sink.onAccepted = (recipient) => {
    const sent = sentAt.get(recipient)?.shift();
    if (!sent) return;
    settled++;
    if (sent.measured) latencies.push(performance.now() - sent.at);
  };
  const loop = monitorEventLoopDelay({ resolution: 1 });
  const answers: Promise<void>[] = [];
  const fire = (i: number) => {
    const customer = `lat-${i % o.customers}`;
    const recipient = `${customer}@example.com`;
    const measured = i >= unmeasured;
    answers.push(
      post(agent, side.url, side.headers, side.body(customer, i), () => {
        const sent = { at: performance.now(), measured };
        const times = sentAt.get(recipient);
        if (times) times.push(sent);
        else sentAt.set(recipient, [sent]);
      }).then(
        (status) => {
          if (status < 200 || status > 299) failed++;
        },
        () => {
          failed++;
        },
      ),
    );
  };
  const started = performance.now();
  let measuredFrom = started;
  let cpuBefore = process.cpuUsage();
  const serverCpu = () => ({
    api: processCpuSeconds(side.pids.api),
    worker: processCpuSeconds(side.pids.worker),
  });
  let serverBefore = serverCpu();
  let backlogAtStart = 0;
  let i = 0;
  while (i < total) {
    const due = Math.min(total, Math.floor(((performance.now() - started) * rate) / 1000) + 1);
    while (i < due) {
      if (i === unmeasured) {
        measuredFrom = performance.now();
        cpuBefore = process.cpuUsage();
        serverBefore = serverCpu();
        backlogAtStart = i - settled - failed;
        loop.enable();
      }
      fire(i++);
    }
    if (i < total) await sleep(1);
  }
  const seconds = (performance.now() - measuredFrom) / 1000;
  const serverAfter = serverCpu();
  const share = (before: number | undefined, after: number | undefined) =>
    before === undefined || after === undefined ? undefined : (after - before) / seconds;
  await Promise.all(answers);
  const deadline = Date.now() + 30_000;
  while (settled + failed < total && Date.now() < deadline) await sleep(10);
  loop.disable();
  sink.onAccepted = undefined;
  const { user, system } = process.cpuUsage(cpuBefore);
  const sent = total - unmeasured;
  return {
    rate,
    achieved: sent / seconds,
    sent,
    lost: sent - latencies.length,
    loopP99: loop.percentile(99) / 1e6,
    cpu: (user + system) / 1000 / (performance.now() - measuredFrom),
    serverCpu: {
      api: share(serverBefore.api, serverAfter.api),
      worker: share(serverBefore.worker, serverAfter.worker),
    },
    backlogAtStart,
    ...distribution(latencies),
  };
}

async function runSide(o: LatencyOptions, side: Side, sink: Sink, agent: Agent) {
  const runs: LatencyRun[] = [];
  for (const rate of o.rates) runs.push(await pacedRun(o, side, sink, agent, rate));
  return runs;
}

async function baselineSide(o: LatencyOptions, sinkPort: number): Promise<Side> {
  const processes = await startBaselineProcesses({ ...o, sinkPort });
  return {
    url: new URL(`${processes.base}/track`),
    headers: {},
    body: (customer) => JSON.stringify({ userId: customer, event: 'Notify' }),
    pids: processes.pids,
    close: () => processes.close(),
  };
}

async function chorusSide(o: LatencyOptions, sinkPort: number): Promise<Side> {
  const processes = await startChorusProcesses({ ...o, sinkPort });
  // Customers are identified beforehand, untimed, straight into Redis; once the worker process
  // has applied every identify, it is running.
  const redis = new Redis(o.redisUrl, { maxRetriesPerRequest: null });
  const engine = createEngine({ redis, prefix: o.prefix, journeys: [notify], messages: { has: () => true } });
  try {
    const ids = Array.from({ length: o.customers }, (_, i) => `lat-${i}`);
    await Promise.all(
      ids.map((id) =>
        engine.identify({ userId: id, traits: { email: `${id}@example.com`, firstName: 'Ada' } }),
      ),
    );
    await waitForProfiles(engine, ids);
  } catch (error) {
    await processes.close();
    throw error;
  } finally {
    await engine.close();
    redis.disconnect();
  }
  return {
    url: new URL(`${processes.base}/v1/track`),
    headers: { authorization: `Bearer ${LATENCY_API_KEY}` },
    body: (customer, i) =>
      JSON.stringify({
        userId: customer,
        event: 'Notify',
        messageId: `lat-${process.pid}-${i}-${Math.random()}`,
      }),
    pids: processes.pids,
    close: () => processes.close(),
  };
}

export async function benchLatency(o: LatencyOptions): Promise<LatencyFigures> {
  const sink = await startSink();
  const agent = keepAliveAgent(256);
  const admin = new Redis(o.redisUrl);
  try {
    const bare = await baselineSide(o, sink.port);
    let baseline: LatencyRun[];
    try {
      baseline = await runSide(o, bare, sink, agent);
    } finally {
      await bare.close();
    }
    const ours = await chorusSide(o, sink.port);
    let chorus: LatencyRun[];
    try {
      chorus = await runSide(o, ours, sink, agent);
    } finally {
      await ours.close();
    }
    return { options: o, baseline, chorus };
  } finally {
    agent.destroy();
    await sink.close();
    await deleteBenchKeys(admin, o.prefix, [`{${o.prefix}-raw}:*`]);
    admin.disconnect();
  }
}

const core = (share: number | undefined) => (share === undefined ? '-' : percent(share));

export function latencyReport(f: LatencyFigures): string {
  const line = (name: string, r: LatencyRun) =>
    `${name.padEnd(9)} ${String(r.rate).padStart(5)}/s  achieved ${r.achieved.toFixed(0).padStart(4)}/s  ` +
    `p50 ${ms(r.p50).padStart(8)}  p99 ${ms(r.p99).padStart(8)}  max ${ms(r.max).padStart(8)}  ` +
    `lost ${r.lost}  backlog at start ${r.backlogAtStart}  ` +
    `CPU (share of a core) worker ${core(r.serverCpu.worker)} API ${core(r.serverCpu.api)} client+sink ${core(r.cpu)} ` +
    `(client event-loop p99 ${ms(r.loopP99)})`;
  return [
    `webhook → SMTP latency: ${f.options.durationMs / 1000} s per rate after ${f.options.warmupMs / 1000} s of ` +
      `warm-up, ${f.options.customers} customers in turn`,
    ...f.baseline.map((r) => line('baseline', r)),
    ...f.chorus.map((r) => line('Chorus', r)),
    '',
  ].join('\n');
}

/** How busy each side's worker process was: where it nears a full core, latency is queueing. */
function workerCpuRow(measure: string, b: LatencyRun, c: LatencyRun): BenchRow[] {
  const [base, ours] = [b.serverCpu.worker, c.serverCpu.worker];
  if (base === undefined || ours === undefined) return [];
  return [
    {
      measure,
      baseline: core(base),
      chorus: core(ours),
      figure: `${(ours / base).toFixed(2)}x`,
      target: '-',
      met: undefined,
    },
  ];
}

export function latencyRows(f: LatencyFigures): BenchRow[] {
  return f.chorus.flatMap((c, i) => {
    const b = f.baseline[i]!;
    const rate = `${c.rate}/s (achieved ${c.achieved.toFixed(0)}/s)`;
    const lost = c.lost > 0 ? `, ${c.lost} lost` : '';
    return [
      {
        measure: `webhook→SMTP p50 at ${rate}`,
        baseline: ms(b.p50),
        chorus: ms(c.p50),
        figure: msDelta(c.p50 - b.p50),
        target: '-',
        met: undefined,
      },
      {
        measure: `webhook→SMTP p99 at ${rate}`,
        baseline: ms(b.p99),
        chorus: ms(c.p99),
        figure: `${msDelta(c.p99 - b.p99)}${lost}`,
        target: c.rate === 250 ? '<= 25 ms' : '-',
        met: c.rate === 250 ? c.p99 <= 25 && c.lost === 0 : undefined,
      },
      ...workerCpuRow(`worker process CPU at ${c.rate}/s (share of a core)`, b, c),
    ];
  });
}

if (isMain(import.meta.url)) {
  process.stdout.write(latencyReport(await benchLatency(latencyOptionsFromEnv())));
}
