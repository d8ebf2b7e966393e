import { Job, type JobsOptions, type Queue } from 'bullmq';
import type { ScheduleCommand } from './command.js';
import { CUSTOMER_EVENT_VERSION, type TimerEvent } from './customer-event.js';
import { parseTimerJobId } from './ids.js';
import { refuseNewer } from './newer-version.js';
import { JOURNEY_ATTEMPTS, JOURNEY_BACKOFF } from './queues.js';

/**
 * A timer job: the BullMQ delayed job that puts a fired xstate delay in the customer's inbox.
 * One waits for every parked customer, so what it stores is kept small: Redis keeps a hash in
 * its compact listpack encoding only while every value is at most 64 bytes
 * (`hash-max-listpack-value`), and a job's `data` and `opts` are values of its hash.
 */
export const TIMER_JOB = 'timer';

/**
 * The data of a timer job made since v2: only what neither its job id (customer, instance) nor
 * the instance's `timers` (send id, by job id) tells. `c` and `i` appear only for an id that
 * does not read back to the same customer and instance; `e` only when the event type is not the
 * send id (an xstate `after` uses one string for both).
 */
export interface TimerJobDataV2 {
  v: typeof TIMER_JOB_VERSION;
  c?: string;
  i?: string;
  e?: string;
}

/** The data of a timer job made before v2 (still queued for up to the longest wait): the whole event. */
export type TimerJobDataV1 = Omit<TimerEvent, 'timestamp' | 'sendId' | 'eventType'> & {
  sendId: string;
  eventType: string;
};

export type TimerJobData = TimerJobDataV1 | TimerJobDataV2;

/** The version of the timer jobs this code writes, and the newest it reads. */
export const TIMER_JOB_VERSION = 2 as const;

export function timerJobData(timer: ScheduleCommand): TimerJobDataV2 {
  const named = parseTimerJobId(timer.jobId);
  const readsBack = named?.customerId === timer.customerId && named.instanceId === timer.instanceId;
  return {
    v: TIMER_JOB_VERSION,
    ...(readsBack ? {} : { c: timer.customerId, i: timer.instanceId }),
    ...(timer.eventType === timer.sendId ? {} : { e: timer.eventType }),
  };
}

/**
 * The options stored on each timer job. The queue's defaults are not copied in (BullMQ stores
 * a job's options with the job): the retry policy is named by a short custom backoff type the
 * journey worker resolves, and completed or failed timers are removed by the worker's own
 * `removeOnComplete` / `removeOnFail`. The job id is passed apart, not as an option, so it is
 * not stored a second time inside `opts`.
 */
export function timerJobOptions(delay: number): JobsOptions {
  const retry = { attempts: JOURNEY_ATTEMPTS, backoff: { type: JOURNEY_BACKOFF } };
  // delay 0 is left out: with a custom job id it would go through BullMQ's delayed set.
  return delay > 0 ? { delay, ...retry } : retry;
}

/** Adds a timer job; a job id that already exists makes it a no-op, as `Queue.add` does. */
export async function addTimerJob(
  queue: Queue,
  jobId: string,
  data: TimerJobDataV2,
  delay: number,
): Promise<void> {
  const job = new Job(queue, TIMER_JOB, data, timerJobOptions(delay), jobId);
  await job.addJob(await queue.backend.client);
}

/** The inbox event a timer job delivers, from either shape of its data. */
export function timerEvent(job: Job<TimerJobData>): TimerEvent | undefined {
  // The due time, not the run time: a late timer is still the timer it was.
  const timestamp = job.timestamp + (job.opts.delay ?? 0);
  const data = job.data;
  refuseNewer(`Timer job ${job.id}`, data, TIMER_JOB_VERSION);
  if ('sendId' in data) return { ...data, timestamp };
  const named =
    data.c !== undefined && data.i !== undefined
      ? { customerId: data.c, instanceId: data.i }
      : parseTimerJobId(job.id ?? '');
  if (!named) return undefined;
  return {
    v: CUSTOMER_EVENT_VERSION,
    kind: 'timer',
    id: job.id!,
    ...named,
    ...(data.e === undefined ? {} : { eventType: data.e }),
    timestamp,
  };
}
