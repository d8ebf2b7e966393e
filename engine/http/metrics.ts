import type { Queue } from 'bullmq';
import type { RedisConnection } from '../redis/connection.js';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { sendCountsKey } from '../delivery/send-counts.js';
import { policyCountsKey } from '../policy/policy-counts.js';
import type { TimerWheel } from '../runtime/timer-wheel.js';

const JOB_STATES = ['waiting', 'active', 'delayed', 'prioritized', 'failed', 'completed'] as const;

/**
 * A gauge's `collect` that reads Redis: when the read fails (Redis away), the gauge has no
 * series for this scrape (a gauge without labels, which always has one, reads NaN: unknown, not
 * zero) instead of failing the scrape. The process's own figures (HTTP requests and their
 * statuses, drain adds given up) are what an operator needs most during the outage, and a failed
 * scrape would hide them, and mark the API process itself down.
 */
function readFromRedis(read: (gauge: Gauge) => Promise<void>, options: { labelled: boolean }) {
  return async function collect(this: Gauge): Promise<void> {
    try {
      await read(this);
    } catch {
      this.reset();
      if (!options.labelled) this.set(Number.NaN);
    }
  };
}

/**
 * A labelled counter's `collect` that sets each series to a total kept in Redis. When the read
 * fails the counter has no series for this scrape, as `readFromRedis` does for gauges; Prometheus
 * treats a series that comes back with the same total as unbroken.
 */
function totalsFromRedis<Label extends string>(
  read: () => Promise<Array<{ labels: Partial<Record<Label, string>>; value: number }>>,
) {
  return async function collect(this: Counter<Label>): Promise<void> {
    let totals: Awaited<ReturnType<typeof read>>;
    try {
      totals = await read();
    } catch {
      this.reset();
      return;
    }
    this.reset();
    for (const { labels, value } of totals) this.inc(labels, value);
  };
}

/**
 * Prometheus metrics of the HTTP API and of the whole engine. Queue depths, job outcomes and
 * sends are read from Redis on each scrape, so any API process reports the work of every
 * worker process, and a restart loses nothing.
 */
export function createMetrics(options: {
  /** The queues to read, asked at each scrape: shards found later are read from then on. */
  queues: () => readonly Queue[];
  redis: RedisConnection;
  prefix: string;
  timerWheel: TimerWheel;
  /** Drain-job adds this process gave up to the inbox sweep (see createInboxIntake). */
  drainAddsGivenUp: () => number;
}) {
  const registry = new Registry();
  const requests = new Counter({
    name: 'chorus_http_requests_total',
    help: 'HTTP requests answered, by route and status',
    labelNames: ['method', 'route', 'status'] as const,
    registers: [registry],
  });
  const duration = new Histogram({
    name: 'chorus_http_request_duration_seconds',
    help: 'HTTP request duration',
    labelNames: ['method', 'route'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [registry],
  });

  new Gauge({
    name: 'chorus_queue_jobs',
    help: 'Jobs in each engine queue, by state',
    labelNames: ['queue', 'state'] as const,
    registers: [registry],
    collect: readFromRedis(
      async (gauge) => {
        // Every queue at once: with queue shards there are six a shard.
        const queues = options.queues();
        const all = await Promise.all(queues.map((queue) => queue.getJobCounts(...JOB_STATES)));
        for (const [i, queue] of queues.entries())
          for (const state of JOB_STATES) gauge.set({ queue: queue.name, state }, all[i]![state] ?? 0);
      },
      { labelled: true },
    ),
  });

  new Gauge({
    name: 'chorus_timers_waiting',
    help: 'Journey timers waiting in the timer wheel: those due beyond the sweep horizon (nearer ones are delayed journey jobs)',
    registers: [registry],
    collect: readFromRedis(
      async (gauge) => {
        gauge.set(await options.timerWheel.waiting());
      },
      { labelled: false },
    ),
  });

  // Totals kept in Redis that only ever grow: Prometheus counters (type and `_total` name), so
  // `rate()` and `increase()` read them as such. Each scrape sets them to the stored totals.
  new Counter({
    name: 'chorus_jobs_finished_total',
    help: 'Jobs finished since the queue was created, by outcome (BullMQ keeps the count)',
    labelNames: ['queue', 'outcome'] as const,
    registers: [registry],
    collect: totalsFromRedis(async () => {
      const outcomes = ['completed', 'failed'] as const;
      const queues = options.queues();
      const all = await Promise.all(
        queues.flatMap((queue) => outcomes.map((outcome) => queue.getMetrics(outcome, 0, 0))),
      );
      return queues.flatMap((queue, i) =>
        outcomes.map((outcome, j) => ({
          labels: { queue: queue.name, outcome },
          value: all[i * outcomes.length + j]!.meta.count,
        })),
      );
    }),
  });

  new Counter({
    name: 'chorus_sends_total',
    help: 'Messages recorded by the delivery workers, by channel and outcome',
    labelNames: ['channel', 'status'] as const,
    registers: [registry],
    collect: totalsFromRedis(async () => {
      const counts = await options.redis.hgetall(sendCountsKey(options.prefix));
      return Object.entries(counts).map(([field, value]) => {
        const [channel = '', status = ''] = field.split('|');
        return { labels: { channel, status }, value: Number(value) };
      });
    }),
  });

  new Counter({
    name: 'chorus_policy_decisions_total',
    help: 'Sends the policy skipped, rerouted or delayed, by channel, action and rule',
    labelNames: ['channel', 'action', 'rule'] as const,
    registers: [registry],
    collect: totalsFromRedis(async () => {
      const counts = await options.redis.hgetall(policyCountsKey(options.prefix));
      return Object.entries(counts).map(([field, value]) => {
        const [channel = '', action = '', rule = ''] = field.split('|');
        return { labels: { channel, action, rule }, value: Number(value) };
      });
    }),
  });

  // This process's own count, kept in memory: each process reports the adds it gave up itself.
  new Counter({
    name: 'chorus_drain_adds_given_up_total',
    help: 'Events this API process stored whose drain job it could not add (twice): the inbox sweep adds them',
    registers: [registry],
    collect() {
      this.reset();
      this.inc(options.drainAddsGivenUp());
    },
  });

  return {
    registry,
    observe(method: string, route: string, status: number, seconds: number) {
      requests.inc({ method, route, status: String(status) });
      duration.observe({ method, route }, seconds);
    },
  };
}
