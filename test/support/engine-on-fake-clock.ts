import type { Job, Worker } from 'bullmq';
import type { FakeClock } from '../../engine/index.js';
import {
  DRAIN_JOB,
  type DrainJobData,
  TIMER_JOB,
  type DeliveryJobData,
  type Engine,
  type InstanceRecord,
  type RedisConnection,
} from '../../engine/index.js';
import { drainedCustomer } from '../../engine/runtime/drain-job.js';
import { parseStepJobId } from '../../engine/runtime/ids.js';

/** A timer the engine holds, with the journey time it falls due at. */
export interface EngineTimer {
  jobId: string;
  customerId: string;
  dueAt: number;
  /** Where it waits: a BullMQ delayed job, or an entry of the timer wheel (its key). */
  job?: Job;
  wheel?: string;
}

/**
 * Drives an engine whose clock is a FakeClock, its journey workers running in this process, the
 * way the journey harness drives the pure runtime: events at the current journey time, then
 * `advance`, which fires each timer falling due at its due time. Nothing sleeps for a wait:
 * a due BullMQ timer is promoted, a due wheel entry is made due and the wheel promotes it, and
 * every step waits until the journey queues are idle and the customers' inboxes empty.
 *
 * The journey time a timer falls due at is worked out when it is first seen, right after the step
 * that made it: the clock stood still during that step, so it is that step's time plus the wait.
 * A BullMQ job stores the wait (its delay); a wheel entry stores its real due time, from which
 * the wait is read back to the minute, so the journeys driven must wait whole minutes and the
 * clock must move by whole minutes.
 */
export class EngineOnFakeClock {
  /** Journey due time of every timer job seen, by job id. */
  private readonly dueAt = new Map<string, number>();
  private readonly failures: string[] = [];
  /** Timers that fell due though no instance named them any more (cancelled, yet still there). */
  readonly stale: string[] = [];

  constructor(
    private current: Engine,
    readonly clock: FakeClock,
    readonly redis: RedisConnection,
    workers: readonly Worker[],
    /** Only these customers' timers are driven (the engine may hold others'). */
    private readonly owns: (customerId: string) => boolean,
  ) {
    this.watch(workers);
  }

  /** The engine driven now. */
  get engine(): Engine {
    return this.current;
  }

  /**
   * Drives `engine` from now on, as after a deployment replaced every worker: the timers seen so
   * far keep their journey due times, which the new engine's jobs and wheel entries still name.
   */
  deployed(engine: Engine, workers: readonly Worker[]): void {
    this.current = engine;
    this.watch(workers);
  }

  private watch(workers: readonly Worker[]): void {
    // A job that failed by a fault the test injected (see injectFaults) is retried; any other
    // failure is a finding.
    for (const worker of workers)
      worker.on('failed', (job, err) => {
        const customerId = job?.id === undefined ? undefined : jobCustomer(job);
        if (customerId !== undefined && !this.owns(customerId)) return;
        if (!(err instanceof InjectedFault) || (job && job.attemptsMade >= (job.opts.attempts ?? 1)))
          this.failures.push(`${job?.id ?? '?'} (attempt ${job?.attemptsMade ?? '?'}): ${err.message}`);
      });
  }

  /** Forgets the failures seen so far: a new run, of other customers, begins. */
  reset(): void {
    this.failures.length = 0;
    this.stale.length = 0;
  }

  /** Resolves once every event answered so far and every job it led to are applied. */
  async idle(customers: readonly string[]): Promise<void> {
    await this.engine.settleIngest();
    const deadline = Date.now() + 15_000;
    for (;;) {
      if (this.failures.length > 0) throw new Error(`journey jobs failed: ${this.failures.join('; ')}`);
      const [counts, inboxes] = await Promise.all([
        Promise.all(
          this.engine.queues.shards.map((shard) =>
            shard.journeys.getJobCounts('waiting', 'active', 'prioritized', 'waiting-children'),
          ),
        ),
        Promise.all(customers.map((id) => this.redis.llen(this.engine.store.keys(id).inbox))),
      ]);
      const running = counts.some((c) => Object.values(c).some((n) => n > 0));
      // A job retrying after a fault waits out its backoff in the delayed set: it runs now. (Its
      // customer's events wait for it: it holds their lease.)
      if (!running && !(await this.promoteRetries()) && inboxes.every((length) => length === 0)) break;
      if (Date.now() > deadline) throw new Error(`the engine did not settle: ${JSON.stringify(counts)}`);
      await new Promise((resolve) => setTimeout(resolve, 3));
    }
    await this.timers(); // so each new timer is first seen at the time of the step that made it
  }

  /** Promotes the journey jobs that wait to retry; returns whether there were any. */
  private async promoteRetries(): Promise<boolean> {
    const retrying = (
      await Promise.all(this.engine.queues.shards.map((shard) => shard.journeys.getDelayed()))
    )
      .flat()
      .filter((job) => job.attemptsMade > 0);
    // A job whose real backoff ended since it was listed has left the delayed set already (and
    // may have run and been removed).
    const promote = (job: Job) =>
      job.promote().catch((error: unknown) => {
        if (!/is not in the delayed state|Missing key for job/.test((error as Error).message)) throw error;
      });
    await Promise.all(retrying.map(promote));
    return retrying.length > 0;
  }

  /** Every timer job of the driven customers, in BullMQ or in the wheel, with its journey due time. */
  async timers(): Promise<EngineTimer[]> {
    const now = this.clock.now();
    const timers: EngineTimer[] = [];
    const add = (jobId: string, wait: () => number, where: Pick<EngineTimer, 'job' | 'wheel'>) => {
      const named = parseStepJobId(jobId);
      if (!named || !this.owns(named.customerId)) return;
      let dueAt = this.dueAt.get(jobId);
      if (dueAt === undefined) this.dueAt.set(jobId, (dueAt = now + wait()));
      timers.push({ jobId, customerId: named.customerId, dueAt, ...where });
    };
    const realNow = Date.now();
    await Promise.all([
      ...this.engine.queues.shards.map(async (shard) => {
        for (const job of await shard.journeys.getDelayed())
          if (job.name === TIMER_JOB && job.id !== undefined && job.attemptsMade === 0)
            add(job.id, () => job.opts.delay ?? 0, { job });
      }),
      ...this.engine.timerWheel.keys.map(async (key) => {
        const entries = await this.redis.zrange(key, 0, -1, 'WITHSCORES');
        for (let i = 0; i < entries.length; i += 2) {
          const score = Number(entries[i + 1]);
          add(entries[i]!, () => Math.round((score - realNow) / 60_000) * 60_000, { wheel: key });
        }
      }),
    ]);
    // A timer gone (fired, cancelled, erased) is forgotten: a later one may reuse its id, as a
    // customer erased and back again does.
    const listed = new Set(timers.map((timer) => timer.jobId));
    for (const jobId of this.dueAt.keys()) if (!listed.has(jobId)) this.dueAt.delete(jobId);
    return timers.sort((a, b) => a.dueAt - b.dueAt || a.jobId.localeCompare(b.jobId));
  }

  /**
   * Moves the clock forward by `ms`, firing every timer that falls due, one at a time and in due
   * order, with the clock at its due time.
   */
  async advance(ms: number, customers: readonly string[]): Promise<void> {
    const until = this.clock.now() + ms;
    for (;;) {
      const [next] = (await this.timers()).filter((timer) => timer.dueAt <= until);
      if (!next) break;
      this.clock.set(Math.max(this.clock.now(), next.dueAt));
      // Between steps every cancelled timer is gone: one that fires named by no instance leaked.
      const named = (await this.instances(next.customerId)).some((record) =>
        Object.values(record.timers).includes(next.jobId),
      );
      if (!named) this.stale.push(next.jobId);
      await this.fire(next);
      await this.idle(customers);
    }
    this.clock.set(until);
  }

  private async fire(timer: EngineTimer): Promise<void> {
    if (timer.job) {
      await timer.job.promote();
      return;
    }
    // Due now, as far as the wheel can tell: the wheel itself moves it to BullMQ.
    await this.redis.zadd(timer.wheel!, 'XX', 0, timer.jobId);
    await this.engine.timerWheel.promoteDue();
  }

  /** What the journeys handed to delivery for the driven customers: the delivery jobs' data. */
  async sends(): Promise<DeliveryJobData[]> {
    const jobs = await Promise.all(
      this.engine.queues.shards.flatMap((shard) =>
        Object.values(shard.deliveries).map((queue) =>
          queue.getJobs(['waiting', 'delayed', 'prioritized', 'active', 'completed', 'failed']),
        ),
      ),
    );
    return jobs
      .flat()
      .map((job) => job.data as DeliveryJobData)
      .filter((data) => this.owns(data.customerId));
  }

  /** The customer's instances as stored. */
  async instances(customerId: string): Promise<InstanceRecord[]> {
    return (await this.engine.customer(customerId)).instances;
  }
}

/** The customer a drain or timer job is for. */
function jobCustomer(job: Job): string | undefined {
  if (job.name === TIMER_JOB) return parseStepJobId(job.id!)?.customerId;
  return job.name === DRAIN_JOB ? drainedCustomer(job as Job<DrainJobData>) : undefined;
}

/** A failure the test made on purpose: the job retries, as after a Redis hiccup. */
export class InjectedFault extends Error {}

/** Where a faulty call fails: before it reaches Redis, or after (its answer lost), or not at all. */
export type FaultAt = 'before' | 'after' | undefined;

/**
 * Makes the engine's writes on the way from an event to its commit fail now and then, as a Redis
 * connection does: before the write, or after it (the answer lost). Each failed job retries, and
 * must come out as if nothing had failed. `decide` is asked at every call.
 */
export function injectFaults(engine: Engine, decide: (call: string) => FaultAt): void {
  const wrap = (target: object, name: string, label: string) => {
    const methods = target as Record<string, (...args: unknown[]) => Promise<unknown>>;
    const original = methods[name]!.bind(target);
    methods[name] = async (...args: unknown[]) => {
      const at = decide(label);
      if (at === 'before') throw new InjectedFault(`injected fault before ${label}`);
      const result = await original(...args);
      if (at === 'after') throw new InjectedFault(`injected fault after ${label}`);
      return result;
    };
  };
  for (const name of ['acquire', 'saveBeforeCommands', 'commit', 'releaseIfIdle'])
    wrap(engine.store, name, name);
  for (const name of ['add', 'remove']) wrap(engine.timerWheel, name, `wheel ${name}`);
  for (const shard of engine.queues.shards) {
    wrap(shard.journeys, 'remove', 'timer cancel');
    for (const [channel, queue] of Object.entries(shard.deliveries)) wrap(queue, 'add', `${channel} send`);
  }
}
