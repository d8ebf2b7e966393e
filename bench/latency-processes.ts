import { spawn, type ChildProcess } from 'node:child_process';
import { freePort } from '../test/fault/support/chorus-process.js';
import { FROM, UNSUBSCRIBE } from './sends.js';
import { sleep } from './support.js';

/** What the latency benchmark needs of its processes: where to post, and how to stop them. */
export interface ServingProcesses {
  /** Base URL of the API process. */
  base: string;
  /** Stops every process (SIGTERM, then SIGKILL after 10 s). */
  close(): Promise<void>;
}

export const LATENCY_API_KEY = 'bench-latency-api-key-0123456789';

/**
 * Messages per pooled SMTP connection, on both sides. nodemailer replaces a connection after 100
 * by default and then pauses its queue for 100 ms (smtp-pool's `_continueProcessing`): at 250/s
 * over 5 connections that is a pause every 0.4 s, which set the p99 of both sides near 100 ms.
 */
export const SMTP_MAX_MESSAGES = 1_000_000;

interface Child {
  proc: ChildProcess;
  log(): string;
  exited: Promise<void>;
}

function start(script: string, args: string[], env: Record<string, string>): Child {
  const proc = spawn(process.execPath, ['--import', 'tsx', script, ...args], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let log = '';
  const keep = (chunk: Buffer) => (log = (log + chunk.toString()).slice(-8000));
  proc.stdout!.on('data', keep);
  proc.stderr!.on('data', keep);
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
  return { proc, log: () => log, exited };
}

async function until(what: string, child: Child, ready: () => Promise<boolean> | boolean): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (!(await ready())) {
    if (child.proc.exitCode !== null || Date.now() > deadline)
      throw new Error(`${what} did not start. Its log:\n${child.log()}`);
    await sleep(50);
  }
}

const answers = (url: string) =>
  fetch(url).then(
    (r) => r.ok,
    () => false,
  );

async function stopAll(children: Child[]): Promise<void> {
  for (const child of children) if (child.proc.exitCode === null) child.proc.kill('SIGTERM');
  const killer = setTimeout(() => children.forEach((c) => c.proc.kill('SIGKILL')), 10_000);
  await Promise.all(children.map((c) => c.exited));
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
  const worker = start('bench/latency-baseline.ts', ['worker'], env);
  const api = start('bench/latency-baseline.ts', ['api'], env);
  const base = `http://127.0.0.1:${port}`;
  try {
    await until('the baseline worker', worker, () => worker.log().includes('ready'));
    await until('the baseline API', api, () => answers(`${base}/healthz`));
  } catch (error) {
    await stopAll([api, worker]);
    throw error;
  }
  return { base, close: () => stopAll([api, worker]) };
}

/**
 * Chorus as it is deployed to scale out: `workers/api.ts` (the HTTP API) and `workers/worker.ts`
 * (journey and delivery workers), configured by environment as an operator would, with the
 * `notify` journey (bench/journeys) and the project's templates, its SMTP pool sized as the
 * baseline's. Link and open tracking are off,
 * as the baseline's email has none. `ready` resolves once the worker process applies events,
 * which the caller checks by identifying its customers first.
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
    LOG_LEVEL: 'warn',
    PORT: String(port),
    HOST: '127.0.0.1',
  };
  const worker = start('workers/worker.ts', [], env);
  const api = start('workers/api.ts', [], env);
  const base = `http://127.0.0.1:${port}`;
  try {
    await until('the Chorus API', api, () => answers(`${base}/healthz`));
  } catch (error) {
    await stopAll([api, worker]);
    throw error;
  }
  return { base, close: () => stopAll([api, worker]) };
}
