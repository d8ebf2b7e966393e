import { Redis } from 'ioredis';
import {
  allQueues,
  CoreMessageCatalog,
  createEngine,
  deleteKeysMatching,
  engineKeyPatterns,
  type Engine,
} from '../../../engine/index.js';
import { counter } from '../../fixtures/journeys/counter.js';
import { freePort } from '../../../engine/free-port.js';
import { startChorusProcess, waitForHttp, type ChorusProcess } from './chorus-process.js';
import type { FaultSmtp } from './fault-smtp.js';

/**
 * How many customers each bulk case runs through its journey. With 2000 each bulk case takes
 * 20-35 s of its 240 s limit on two quiet cores, about two minutes for the `test/fault` folder;
 * raise it for a soak run (`FAULT_CUSTOMERS=20000 npx vitest run test/fault`).
 */
export const FAULT_CUSTOMERS = Number(process.env.FAULT_CUSTOMERS ?? 2000);

export const FAULT_API_KEY = 'fault-suite-api-key-0123456789';
export const FAULT_JOURNEYS_DIR = 'test/fault/fixtures/journeys';

export interface FaultRunOptions {
  redisUrl: string;
  prefix: string;
  smtp: FaultSmtp;
  /** Environment every process of the run gets on top of the defaults. */
  env?: Record<string, string>;
  /** QUEUE_SHARDS of every process of the run, and of the reader. Default 1. */
  queueShards?: number;
}

/**
 * The processes of one fault case against one Redis and key prefix: worker processes started
 * and killed at will, an API process, and an in-process engine (no workers) that reads the
 * customers' stored state for the checks and can enqueue events straight into Redis.
 */
export function faultRun(options: FaultRunOptions) {
  const redis = new Redis(options.redisUrl, { maxRetriesPerRequest: null });
  redis.on('error', () => {});
  const reader: Engine = createEngine({
    redis,
    prefix: options.prefix,
    journeys: [counter],
    messages: CoreMessageCatalog.fromDirectory('templates'),
    queueShards: options.queueShards ?? 1,
  });
  // Its queues report a Redis that is away (the restart case) as errors; the checks read state instead.
  for (const queue of allQueues(reader.queues)) queue.on('error', () => {});
  const processes: ChorusProcess[] = [];
  const env = (extra: Record<string, string> = {}): Record<string, string> => ({
    REDIS_URL: options.redisUrl,
    REDIS_PREFIX: options.prefix,
    JOURNEYS_DIR: FAULT_JOURNEYS_DIR,
    TEMPLATES_DIR: 'templates',
    SMTP_URL: options.smtp.url,
    // The counter journey's one-second wait lasts 10 ms.
    TIME_SCALE: '100',
    // A killed worker's jobs and customer leases are taken over after about 2 s, not 30 s.
    LOCK_DURATION_MS: '2000',
    SWEEP_INTERVAL_MS: '2000',
    API_KEY: FAULT_API_KEY,
    API_RATE_LIMIT: '1000000/1m',
    UNSUBSCRIBE_SECRET: 'fault-suite-unsubscribe-secret',
    PUBLIC_URL: 'https://chorus.example.com',
    TRACK_LINKS: 'false',
    TRACK_OPENS: 'false',
    // Ten attempts of a deferred send then span at least 32.5 s: longer than the SMTP case's 30 s
    // of refusals, and a send waits at most 10 s once the server accepts again.
    DELIVERY_RETRY_MAX_MS: '10000',
    QUEUE_SHARDS: String(options.queueShards ?? 1),
    ...options.env,
    ...extra,
  });

  let closed = false;
  /**
   * A worker process that outlives `close` re-creates the meta key of each of its queues at its
   * next stalled-job check (BullMQ's scripts write it when it is missing), after the keys were
   * deleted: so once the run is closed, nothing starts, and a test body still running (one that
   * failed or timed out, whose `afterAll` ran meanwhile) fails here instead.
   */
  const start = (entry: 'worker' | 'api', extra: Record<string, string>): ChorusProcess => {
    if (closed)
      throw new Error(
        `The fault run ${options.prefix} is closed: a ${entry} process started now would outlive the deletion of its keys. ` +
          'To fix: let nothing in the test start processes after the test has ended (await what starts them).',
      );
    const proc = startChorusProcess(entry, env(extra));
    processes.push(proc);
    return proc;
  };

  return {
    redis,
    reader,
    prefix: options.prefix,
    env,
    startWorker(extra: Record<string, string> = {}): ChorusProcess {
      return start('worker', extra);
    },
    /** Starts an API process on a free port and waits until it answers. */
    async startApi(extra: Record<string, string> = {}): Promise<{ proc: ChorusProcess; url: string }> {
      const port = await freePort();
      const proc = start('api', { PORT: String(port), ...extra });
      const url = `http://127.0.0.1:${port}`;
      await waitForHttp(`${url}/healthz`, proc, 30_000);
      return { proc, url };
    },
    /** The last log lines of every process started, for a failure message. */
    logs(): string {
      return processes.map((p, i) => `--- process ${i} (pid ${p.child.pid})\n${p.log()}`).join('\n');
    },
    /**
     * Kills every process still running and waits until each has exited, closes the reader and
     * deletes the run's keys. From here on the run starts no process (see `start`).
     */
    async close(): Promise<void> {
      closed = true;
      for (const proc of processes) proc.kill('SIGKILL');
      await Promise.all(processes.map((p) => p.exited));
      await reader.close();
      if (redis.status === 'ready') {
        await deleteKeysMatching(redis, engineKeyPatterns(options.prefix));
      }
      redis.disconnect();
    },
  };
}

export type FaultRun = ReturnType<typeof faultRun>;

/** How many jobs of `state` the run's journey and email queues hold, over every shard. */
export async function jobsOfRun(run: FaultRun, state: 'active' | 'failed'): Promise<number> {
  const queues = run.reader.queues.shards.flatMap((shard) => [shard.journeys, shard.deliveries.email]);
  const counts = await Promise.all(queues.map((queue) => queue.getJobCountByTypes(state)));
  return counts.reduce((a, b) => a + b, 0);
}

/** POSTs JSON to the API with the suite's key. */
export function postJson(url: string, body: unknown, signal?: AbortSignal): Promise<Response> {
  return fetch(url, {
    method: 'POST',
    headers: { authorization: `Bearer ${FAULT_API_KEY}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
    ...(signal ? { signal } : {}),
  });
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
