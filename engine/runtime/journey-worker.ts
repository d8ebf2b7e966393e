import {
  MetricsTime,
  UnrecoverableError,
  Worker,
  type ConnectionOptions,
  type Job,
  type Queue,
} from 'bullmq';
import { workerErrorHandler } from './worker-errors.js';
import type { Logger } from '../logger.js';
import { drainCustomer, type DrainDependencies } from './drain-customer.js';
import { drainedCustomer, type DrainJobData } from './drain-job.js';
import { sweepStrandedInboxes } from './inbox-sweeper.js';
import { leaveForNewerWorker, NewerVersionError } from './newer-version.js';
import {
  JOURNEY_REMOVE_ON_COMPLETE,
  JOURNEY_REMOVE_ON_FAIL,
  journeyBackoffMs,
  type QueueShard,
} from './queues.js';
import { TIMER_JOB, timerEvent, type TimerJobData } from './timer-job.js';

/**
 * A drain job (`drain`) names the customer whose inbox has events; a timer job (`timer`) delivers
 * a fired delay (timer-job.ts); a `sweep` job promotes the timers of the wheel falling due
 * (timer-wheel.ts) and looks for inboxes nobody is draining.
 */
export type JourneyJob = Job<DrainJobData | TimerJobData, string>;

/** The BullMQ job scheduler that runs the stranded-inbox sweep on one worker at a time. */
export const SWEEP_SCHEDULER = 'sweep-stranded-inboxes';

export interface JourneyWorkerOptions {
  connection: ConnectionOptions;
  /** The shard whose journey queue this worker takes jobs from. */
  shard: QueueShard;
  concurrency?: number;
  logger: Logger;
  /** BullMQ lock duration and stalled-check interval. */
  lockMs?: number;
  /** How long one sweep may scan for stranded inboxes before leaving the rest to the next. */
  sweepBudgetMs?: number;
}

/** A tenth of the default minute between sweeps. */
export const DEFAULT_SWEEP_BUDGET_MS = 6_000;

/**
 * The worker that advances customers. Every job, drain or timer, ends by draining the
 * customer's inbox under the customer's lease; the job id is the lease token, so a job re-run
 * after its worker died takes its own lease back at once.
 */
export function createJourneyWorker(deps: DrainDependencies, options: JourneyWorkerOptions): Worker {
  async function run(job: JourneyJob): Promise<string> {
    const token = job.id!;
    if (job.name === 'sweep') {
      const { store, executor } = deps;
      // First, as it is due on time: the inbox scan below may use its whole budget. As far ahead
      // as the sweeps are scheduled apart, which another process may have set longer than ours.
      const every = await scheduledEvery(executor.options.queues.journeys, options.logger);
      const promoted = await executor.options.timerWheel?.promoteDue(every);
      const { rescued, passComplete } = await sweepStrandedInboxes({
        redis: store.redis,
        prefix: store.prefix,
        queues: executor.options.queues,
        logger: options.logger,
        round: token,
        budgetMs: options.sweepBudgetMs ?? DEFAULT_SWEEP_BUDGET_MS,
      });
      return `promoted ${promoted ?? 0}, rescued ${rescued}, inbox scan ${passComplete ? 'complete' : 'continues'}`;
    }
    if (job.name === TIMER_JOB) {
      const event = timerEvent(job as Job<TimerJobData>);
      if (!event) throw new UnrecoverableError(`timer job ${token} names no customer`);
      // A timer that retries (or ends failed) may have been applied already, and then no
      // instance names its job any more.
      return indexedOnFailure(event.customerId, token, () =>
        drainCustomer(deps, event.customerId, token, event),
      );
    }
    const customerId = drainedCustomer(job as Job<DrainJobData>);
    // A drain job that retries waits for days between its last attempts, and one that ends failed
    // is kept a week: its data names the customer, and nothing else names the job.
    return indexedOnFailure(customerId, token, () => drainCustomer(deps, customerId, token));
  }

  /**
   * Runs `work`; when it throws, the customer's job index names the job (as a timer's, in the
   * journey queue), so an erasure finds it while it waits to retry or is kept failed.
   */
  async function indexedOnFailure(customerId: string, jobId: string, work: () => Promise<string>) {
    try {
      return await work();
    } catch (error) {
      await deps.executor.options.jobIndex
        ?.record(customerId, [{ queue: 'journeys', jobId }])
        .catch(() => undefined);
      throw error;
    }
  }

  const worker = new Worker(
    options.shard.journeys.name,
    async (job: JourneyJob, lockToken?: string) => {
      try {
        return await run(job);
      } catch (error) {
        if (!(error instanceof NewerVersionError)) throw error;
        options.logger.warn({ jobId: job.id, err: error }, 'journey job left for a newer worker');
        return leaveForNewerWorker(job, lockToken, error);
      }
    },
    {
      connection: options.connection,
      prefix: options.shard.prefix,
      concurrency: options.concurrency ?? 50,
      lockDuration: options.lockMs ?? 30_000,
      stalledInterval: options.lockMs ?? 30_000,
      // Completed/failed counts per minute, kept in Redis for /metrics and the dashboard.
      metrics: { maxDataPoints: MetricsTime.ONE_WEEK },
      // A job whose worker was killed is re-run; let that happen a few times before giving up.
      maxStalledCount: 10,
      // For timer jobs, which do not store these options (the other jobs carry the queue's defaults).
      removeOnComplete: JOURNEY_REMOVE_ON_COMPLETE,
      removeOnFail: JOURNEY_REMOVE_ON_FAIL,
      settings: { backoffStrategy: journeyBackoffMs },
    },
  );
  worker.on('error', workerErrorHandler(options.logger, {}, 'journey worker'));
  worker.on('failed', (job, err) =>
    options.logger.warn({ jobId: job?.id, attempts: job?.attemptsMade, err }, 'journey job failed'),
  );
  return worker;
}

/**
 * How far apart the sweeps are scheduled, as the process that started last set it (0 when that
 * cannot be read: the sweep then looks as far ahead as its own interval says).
 */
async function scheduledEvery(queue: Queue, logger: Logger): Promise<number> {
  try {
    const every = (await queue.getJobScheduler(SWEEP_SCHEDULER))?.every;
    return typeof every === 'number' && Number.isFinite(every) && every > 0 ? every : 0;
  } catch (err) {
    logger.warn({ err }, "could not read the interval of the sweeps; promoting by this process's");
    return 0;
  }
}
