import type { RedisConnection } from '../redis/connection.js';
import { parseTimerJobId } from './ids.js';
import type { Queues, QueueShard } from './queues.js';
import type { RecordedShards } from './recorded-shards.js';
import { addTimerJob, TIMER_JOB_VERSION } from './timer-job.js';

/**
 * The wheel of one queue shard, in the shard's hash tag (`shardPrefix` is BullMQ's prefix of the
 * shard, `{<tag>}`), so it sits with the shard's journey queue on a Redis Cluster: shard 0's is
 * `{<prefix>}:timers`. One wheel per shard spreads the parked customers' entries over the masters
 * as their jobs are; one wheel for all would be one ever-growing key on one master.
 */
export function timerWheelKey(shardPrefix: string): string {
  return `${shardPrefix}:timers`;
}

/** The wheel of each of `queues`' shards, by shard index. */
export function timerWheelKeys(queues: Queues): string[] {
  return queues.shards.map((shard) => timerWheelKey(shard.prefix));
}

/** How many due timers one promotion round reads at a time. */
const PROMOTE_BATCH = 500;

/**
 * How many sweep intervals ahead a timer is promoted: one due within them is a BullMQ job before
 * its time even if one or two sweeps are late.
 */
export const SWEEPS_AHEAD = 3;

/**
 * Long timers wait here, as one sorted-set entry each (member: the timer job id, score: the due
 * time in real epoch ms), instead of as a BullMQ delayed job (a job hash and a delayed-set entry):
 * a customer parked for days costs a third of the memory. The periodic sweep job promotes every
 * timer falling due within `horizonMs` to a BullMQ delayed job with the remaining delay, so it
 * still fires on time; a timer due sooner than that goes to BullMQ at once. Each queue shard has a
 * wheel of its own, holding the timers of its customers (the timer job id names the customer).
 *
 * Crash safety: a promotion adds the job before it removes the entry, and a job id that exists
 * makes the add a no-op. A timer promoted twice (two sweeps racing, or a crash between the two
 * steps after the job already ran) fires twice, and the second is dropped like any stale timer:
 * its job id is no longer on the instance.
 */
export class TimerWheel {
  /** Each of this process's shards' wheel, by shard index. */
  readonly keys: readonly string[];
  private readonly queues: Queues;

  constructor(
    readonly redis: RedisConnection,
    private readonly shards: RecordedShards,
    /** Timers due further away than this wait in the wheel. More than the sweep interval. */
    readonly horizonMs: number,
  ) {
    this.queues = shards.own;
    this.keys = timerWheelKeys(this.queues);
  }

  /**
   * Every shard's wheel, also those of shards beyond this process's count that another process
   * recorded (see shardCountKey): the promotion and erasure must not miss a timer because the
   * process that runs them has not been given the larger QUEUE_SHARDS yet.
   */
  async allKeys(): Promise<string[]> {
    return timerWheelKeys(await this.shards.widen());
  }

  /** The wheel of the shard of the customer a timer job id names (shard 0's for any other id). */
  keyOf(jobId: string): string {
    return this.keys[shardOfTimer(this.queues, jobId).index]!;
  }

  /** Whether a timer this far away waits in the wheel rather than in BullMQ. */
  holds(delayMs: number): boolean {
    return delayMs > this.horizonMs;
  }

  /**
   * Due times are real time, as BullMQ's delays are (the caller has already turned journey time
   * into a real delay). NX: the first add wins, so re-running a step after a crash keeps the due
   * time it had.
   */
  async add(timers: ReadonlyArray<{ jobId: string; delayMs: number }>): Promise<void> {
    if (timers.length === 0) return;
    const now = Date.now();
    await Promise.all(
      [...this.byWheel(timers, (t) => t.jobId)].map(([key, some]) =>
        this.redis.zadd(key, 'NX', ...some.flatMap((t) => [now + t.delayMs, t.jobId])),
      ),
    );
  }

  /**
   * Returns how many were waiting. Each timer is looked for in the wheel its customer maps to now,
   * or, given `wheels`, in each of them: erasure must find them all, also those added before
   * QUEUE_SHARDS was changed, or by a process with a larger count.
   */
  async remove(jobIds: readonly string[], wheels?: readonly string[]): Promise<number> {
    if (jobIds.length === 0) return 0;
    const groups: Array<[string, readonly string[]]> = wheels
      ? wheels.map((key) => [key, jobIds])
      : [...this.byWheel(jobIds, (jobId) => jobId)];
    const removed = await Promise.all(groups.map(([key, some]) => this.redis.zrem(key, ...some)));
    return removed.reduce((a, b) => a + b, 0);
  }

  /** How many timers wait in every wheel, also those of recorded shards beyond this process's count. */
  async waiting(): Promise<number> {
    const counts = await Promise.all((await this.allKeys()).map((key) => this.redis.zcard(key)));
    return counts.reduce((a, b) => a + b, 0);
  }

  private byWheel<T>(items: readonly T[], jobIdOf: (item: T) => string): Map<string, T[]> {
    const groups = new Map<string, T[]>();
    for (const item of items) {
      const key = this.keyOf(jobIdOf(item));
      const group = groups.get(key);
      if (group) group.push(item);
      else groups.set(key, [item]);
    }
    return groups;
  }

  /**
   * Moves every timer due within `horizonMs` to the journey queue of its customer's shard, with
   * its remaining delay; returns how many. Wheels of recorded shards beyond this process's count
   * (see allKeys) are first emptied into its own.
   *
   * `sweepEveryMs` is how far apart the sweeps run, as scheduled: the sweep's scheduler is shared,
   * and the process that started last set its interval, which may be longer than this one's (while
   * SWEEP_INTERVAL_MS is being changed, or where it differs between processes). The horizon then
   * stretches to as many of those intervals, or a timer due after this sweep's horizon and before
   * the next sweep would be promoted only by the next, and fire up to an interval late.
   */
  async promoteDue(sweepEveryMs = 0): Promise<number> {
    const horizonMs = Math.max(this.horizonMs, SWEEPS_AHEAD * sweepEveryMs);
    const keys = await this.allKeys();
    // The wheels of shards beyond this process's count are emptied into its own: after
    // QUEUE_SHARDS was lowered they would otherwise only empty as their timers fall due, which
    // may be weeks, and the dropped shards could not be retired before.
    for (const key of keys.slice(this.keys.length)) await this.rehomeFrom(key);
    let promoted = 0;
    for (const key of this.keys) promoted += await this.promoteFrom(key, horizonMs);
    return promoted;
  }

  /** Moves every entry of `key` to the wheel its job id routes to here, due time kept. */
  private async rehomeFrom(key: string): Promise<void> {
    for (;;) {
      const entries = await this.redis.zrange(key, 0, PROMOTE_BATCH - 1, 'WITHSCORES');
      if (entries.length === 0) return;
      const timers: Array<{ jobId: string; score: string }> = [];
      for (let i = 0; i < entries.length; i += 2) timers.push({ jobId: entries[i]!, score: entries[i + 1]! });
      // Added before removed, as a promotion is: a crash in between leaves an entry in two wheels,
      // and the timer it names fires twice, the second time dropped as stale.
      await Promise.all(
        [...this.byWheel(timers, (t) => t.jobId)].map(([wheel, some]) =>
          this.redis.zadd(wheel, 'NX', ...some.flatMap((t) => [t.score, t.jobId])),
        ),
      );
      await this.redis.zrem(key, ...timers.map((t) => t.jobId));
    }
  }

  private async promoteFrom(key: string, horizonMs: number): Promise<number> {
    const now = Date.now();
    let promoted = 0;
    for (;;) {
      const due = await this.redis.zrangebyscore(
        key,
        '-inf',
        now + horizonMs,
        'WITHSCORES',
        'LIMIT',
        0,
        PROMOTE_BATCH,
      );
      if (due.length === 0) return promoted;
      const jobIds: string[] = [];
      const adds: Array<Promise<void>> = [];
      for (let i = 0; i < due.length; i += 2) {
        const jobId = due[i]!;
        jobIds.push(jobId);
        const delay = Math.max(0, Number(due[i + 1]) - now);
        adds.push(
          addTimerJob(shardOfTimer(this.queues, jobId).journeys, jobId, { v: TIMER_JOB_VERSION }, delay),
        );
      }
      await Promise.all(adds);
      await this.redis.zrem(key, ...jobIds);
      promoted += jobIds.length;
    }
  }
}

/** The shard of the customer a timer job id names (shard 0 for an id of any other shape). */
export function shardOfTimer(queues: Queues, jobId: string): QueueShard {
  if (queues.shards.length === 1) return queues.shards[0]!;
  const named = parseTimerJobId(jobId);
  return named ? queues.forCustomer(named.customerId) : queues.shards[0]!;
}
