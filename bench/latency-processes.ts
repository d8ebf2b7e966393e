import { freePort } from '../engine/free-port.js';
import {
  startChorusProcess,
  startTsxProcess,
  waitForHttp,
  type ChorusProcess,
} from '../test/fault/support/chorus-process.js';
import { FROM, UNSUBSCRIBE } from './sends.js';
import { sleep } from './support.js';

/** What the latency benchmark needs of its processes: where to post, and how to stop them. */
export interface ServingProcesses {
  /** Base URL of the API process. */
  base: string;
  /** The API and worker processes' ids, to read how busy they were. */
  pids: { api: number | undefined; worker: number | undefined };
  /** Stops every process (SIGTERM, then SIGKILL after 10 s). */
  close(): Promise<void>;
}

const START_TIMEOUT_MS = 60_000;

export const LATENCY_API_KEY = 'bench-latency-api-key-0123456789';

/**
 * Messages per pooled SMTP connection, on both sides. nodemailer replaces a connection after 100
 * by default and then pauses its queue for 100 ms (smtp-pool's `_continueProcessing`): at 250/s
 * over 5 connections that is a pause every 0.4 s, which set the p99 of both sides near 100 ms.
 */
export const SMTP_MAX_MESSAGES = 1_000_000;

async function printedReady(what: string, proc: ChorusProcess): Promise<void> {
  const deadline = Date.now() + START_TIMEOUT_MS;
  while (!proc.log().includes('ready')) {
    if (proc.child.exitCode !== null || Date.now() > deadline)
      throw new Error(`${what} did not start. Its log:\n${proc.log()}`);
    await sleep(50);
  }
}

async function stopAll(processes: ChorusProcess[]): Promise<void> {
  for (const proc of processes) proc.kill('SIGTERM');
  const killer = setTimeout(() => processes.forEach((p) => p.kill('SIGKILL')), 10_000);
  await Promise.all(processes.map((p) => p.exited));
  clearTimeout(killer);
}

export interface LatencyProcessOptions {
  redisUrl: string;
  prefix: string;
  sinkPort: number;
  concurrency: number;
  maxConnections: number;
}

/**
 * The baseline as two processes, split as Chorus is: a bare Fastify + `queue.add` API process
 * and a BullMQ + nodemailer worker process (`bench/latency-baseline.ts`).
 */
export async function startBaselineProcesses(o: LatencyProcessOptions): Promise<ServingProcesses> {
  const port = await freePort();
  const env = {
    REDIS_URL: o.redisUrl,
    BENCH_PREFIX: o.prefix,
    SINK_PORT: String(o.sinkPort),
    PORT: String(port),
    CONCURRENCY: String(o.concurrency),
    MAX_CONNECTIONS: String(o.maxConnections),
    MAX_MESSAGES: String(SMTP_MAX_MESSAGES),
  };
  const worker = startTsxProcess('bench/latency-baseline.ts', ['worker'], env);
  const api = startTsxProcess('bench/latency-baseline.ts', ['api'], env);
  const base = `http://127.0.0.1:${port}`;
  try {
    await printedReady('the baseline worker', worker);
    await waitForHttp(`${base}/healthz`, api, START_TIMEOUT_MS);
  } catch (error) {
    await stopAll([api, worker]);
    throw error;
  }
  return {
    base,
    pids: { api: api.child.pid, worker: worker.child.pid },
    close: () => stopAll([api, worker]),
  };
}

/**
 * Chorus as it is deployed to scale out: `workers/api.ts` (the HTTP API) and `workers/worker.ts`
 * (journey and delivery workers), configured by environment as an operator would, with the
 * `notify` journey (bench/journeys) and the project's templates, its SMTP pool sized as the
 * baseline's, logging at `warn`. Link and open tracking are off, as the baseline's email has
 * none. The caller knows the worker process runs once it has applied the customers' identifies.
 */
export async function startChorusProcesses(o: LatencyProcessOptions): Promise<ServingProcesses> {
  const port = await freePort();
  const env = {
    REDIS_URL: o.redisUrl,
    REDIS_PREFIX: o.prefix,
    JOURNEYS_DIR: 'bench/journeys',
    TEMPLATES_DIR: 'templates',
    SMTP_URL: `smtp://127.0.0.1:${o.sinkPort}`,
    SMTP_MAX_CONNECTIONS: String(o.maxConnections),
    SMTP_MAX_MESSAGES: String(SMTP_MAX_MESSAGES),
    MAIL_FROM: FROM,
    PUBLIC_URL: UNSUBSCRIBE.baseUrl,
    UNSUBSCRIBE_SECRET: UNSUBSCRIBE.secret,
    TRACK_LINKS: 'false',
    TRACK_OPENS: 'false',
    API_KEY: LATENCY_API_KEY,
    API_RATE_LIMIT: '1000000000/1m',
    JOURNEY_CONCURRENCY: String(o.concurrency),
    DELIVERY_CONCURRENCY: String(o.concurrency),
    PORT: String(port),
    HOST: '127.0.0.1',
  };
  const worker = startChorusProcess('worker', env);
  const api = startChorusProcess('api', env);
  const base = `http://127.0.0.1:${port}`;
  try {
    await waitForHttp(`${base}/healthz`, api, START_TIMEOUT_MS);
  } catch (error) {
    await stopAll([api, worker]);
    throw error;
  }
  return {
    base,
    pids: { api: api.child.pid, worker: worker.child.pid },
    close: () => stopAll([api, worker]),
  };
}
