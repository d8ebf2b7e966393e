import type { Queue } from 'bullmq';
import type { RedisConnection } from '../redis/connection.js';
import { parseTimerJobId } from './ids.js';
import { queuePrefix, type Queues } from './queues.js';
import { addTimerJob, TIMER_JOB_VERSION } from './timer-job.js';

/**
 * In the hash tag of shard 0's journey queue. One wheel serves every shard: it is written once
 * per long timer, not per event, and the promotion adds each job in its own command.
 */
export function timerWheelKey(prefix: string): string {
  return `${queuePrefix(prefix)}:timers`;
}

/** How many due timers one promotion round reads at a time. */
const PROMOTE_BATCH = 500;

/**
 * Long timers wait here, as one sorted-set entry each (member: the timer job id, score: the due
 * time in real epoch ms), instead of as a BullMQ delayed job (a job hash and a delayed-set entry):
 * a customer parked for days costs a third of the memory. The periodic sweep job promotes every
 * timer falling due within `horizonMs` to a BullMQ delayed job with the remaining delay, so it
 * still fires on time; a timer due sooner than that goes to BullMQ at once.
 *
 * Crash safety: a promotion adds the job before it removes the entry, and a job id that exists
 * makes the add a no-op. A timer promoted twice (two sweeps racing, or a crash between the two
 * steps after the job already ran) fires twice, and the second is dropped like any stale timer:
 * its job id is no longer on the instance.
 */
export class TimerWheel {
  readonly key: string;

  constructor(
    readonly redis: RedisConnection,
    prefix: string,
    /** Timers due further away than this wait in the wheel. More than the sweep interval. */
    readonly horizonMs: number,
  ) {
    this.key = timerWheelKey(prefix);
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
    await this.redis.zadd(this.key, 'NX', ...timers.flatMap((t) => [now + t.delayMs, t.jobId]));
  }

  /** Returns how many were waiting. */
  async remove(jobIds: readonly string[]): Promise<number> {
    return jobIds.length > 0 ? this.redis.zrem(this.key, ...jobIds) : 0;
  }

  /**
   * Moves every timer due within `horizonMs` to the journey queue of its customer's shard, with
   * its remaining delay; returns how many.
   */
  async promoteDue(queues: Queues): Promise<number> {
    const now = Date.now();
    let promoted = 0;
    for (;;) {
      const due = await this.redis.zrangebyscore(
        this.key,
        '-inf',
        now + this.horizonMs,
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
        adds.push(addTimerJob(journeyQueueOfTimer(queues, jobId), jobId, { v: TIMER_JOB_VERSION }, delay));
      }
      await Promise.all(adds);
      await this.remove(jobIds);
      promoted += jobIds.length;
    }
  }
}

/** The journey queue of the shard of the customer a timer job id names (shard 0's for any other id). */
export function journeyQueueOfTimer(queues: Queues, jobId: string): Queue {
  const named = parseTimerJobId(jobId);
  return named ? queues.forCustomer(named.customerId).journeys : queues.journeys;
}
