import { UnrecoverableError, type Job } from 'bullmq';
import type { Clock } from '../clock.js';
import type { Channel } from '../journey/journey-schema.js';
import type { Logger } from '../logger.js';
import type { CustomerStore } from '../store/customer-store.js';
import { ridesInScripts, StatsWrites } from '../store/stats-writes.js';
import { queueDailyCount, type DailyMetric } from '../tracking/daily-counts.js';
import { variantLabel, type DeliveryJobData } from './delivery-job.js';
import { abandonOperation, endOperation, type DeliveryOutcome, type HeldNote } from './delivery-ledger.js';
import { OutcomeNotRecordedError } from './job-signals.js';
import { queueSendCount } from './send-counts.js';
import { withRetries } from './with-retries.js';

/** How many entries a customer's message list keeps. */
export const MESSAGE_LIST_CAP = 100;

/** The ledger keys of one send: its operation, and the customer's message list. */
export interface LedgerKeys {
  op: string;
  messages: string;
}

/**
 * How one channel's delivery worker ends its sends: in the operation's ledger entry, on the
 * customer's message list, and in the send counts, each once per operation id. A send that
 * ends `failed` or `skipped` is also handed to `onNotSent`, once, by whichever call recorded it.
 */
export interface OutcomeRecorder {
  keys(job: DeliveryJobData): LedgerKeys;
  /** A message list entry: what the customer was sent (or why not), shown on the customer. */
  entry(job: DeliveryJobData, status: string, extra: Record<string, unknown>): HeldNote;
  /** Ends the operation with `outcome` unless it has ended; counts it only when this call ended it. */
  end(
    job: DeliveryJobData,
    outcome: DeliveryOutcome,
    extra: Record<string, unknown>,
    at: number,
  ): Promise<boolean>;
  /**
   * `end` once a provider has answered, retried in process: a failure here must not make BullMQ
   * run the job again, which would call the provider again. Throws OutcomeNotRecordedError,
   * which the worker's `failed` handler records later, when every try failed.
   */
  record(
    job: DeliveryJobData,
    outcome: DeliveryOutcome,
    extra: Record<string, unknown>,
    at: number,
  ): Promise<void>;
  /**
   * A job BullMQ will not run again without the processor having recorded why: out of attempts,
   * or failed by BullMQ itself for stalling more than `maxStalledCount` times (its workers died
   * or hung). The message list then says so, as `unknown` if a run had claimed the send.
   */
  abandon(job: Job<DeliveryJobData>, err: Error): Promise<void>;
}

export function createOutcomeRecorder(input: {
  channel: Channel;
  store: CustomerStore;
  clock: Clock;
  logger: Logger;
  /** Named when a send may have reached it: the adapter's provider, or the channel. */
  provider: string;
  recordRetry: { attempts: number; baseMs: number };
  /**
   * Told of a send this recorder ended `failed` or `skipped` (the policy gives back what it took
   * for it: a skip can follow an attempt the policy had let through, when the provider asked to
   * retry and consent was withdrawn meanwhile). Best effort: the outcome is recorded by then, so
   * a failure here is only logged.
   */
  onNotSent?: (job: DeliveryJobData) => Promise<void>;
}): OutcomeRecorder {
  const { channel, store, clock, logger, provider, recordRetry, onNotSent } = input;
  const redis = store.redis;

  const keys = (job: DeliveryJobData): LedgerKeys => {
    const customer = store.keys(job.customerId);
    return { op: customer.op(job.opId), messages: customer.messages };
  };

  const entry = (job: DeliveryJobData, status: string, extra: Record<string, unknown>): HeldNote => ({
    opId: job.opId,
    journeyId: job.journeyId,
    journeyVersion: job.journeyVersion,
    instanceId: job.instanceId,
    state: job.state,
    stage: job.stage,
    message: job.message,
    channel,
    variant: variantLabel(job.variants),
    status,
    ...extra,
  });

  /**
   * The counts of a recorded outcome: per channel, and per journey and day, where a send whose
   * opens or clicks could not be seen (its entry's `untracked`) also counts as such.
   */
  function outcomeCounts(
    job: DeliveryJobData,
    outcome: DeliveryOutcome,
    at: number,
    extra: Record<string, unknown> = {},
  ): StatsWrites {
    const send = {
      journeyId: job.journeyId,
      message: job.message,
      channel,
      variant: variantLabel(job.variants),
    };
    const counts = new StatsWrites();
    queueSendCount(counts, store.prefix, channel, outcome);
    const untracked = outcome === 'sent' && Array.isArray(extra.untracked) ? extra.untracked : [];
    const metrics: DailyMetric[] = [outcome];
    if (untracked.includes('opens')) metrics.push('opens-untracked');
    if (untracked.includes('clicks')) metrics.push('clicks-untracked');
    queueDailyCount(counts, store.prefix, send, metrics, at);
    return counts;
  }

  /** Metrics must never fail a delivery whose outcome is already recorded. */
  const notCounted = (outcome: DeliveryOutcome) => (err: unknown) =>
    logger.warn({ err, channel, outcome }, 'send not counted in metrics');

  /** After this call recorded `outcome`: what follows from it beyond the ledger. */
  async function ended(job: DeliveryJobData, outcome: DeliveryOutcome): Promise<void> {
    if ((outcome !== 'failed' && outcome !== 'skipped') || !onNotSent) return;
    await onNotSent(job).catch((err: unknown) =>
      logger.warn({ err, opId: job.opId, channel, outcome }, 'policy not told of a send that did not go out'),
    );
  }

  async function end(
    job: DeliveryJobData,
    outcome: DeliveryOutcome,
    extra: Record<string, unknown>,
    at: number,
  ) {
    const counts = outcomeCounts(job, outcome, at, extra);
    const ride = ridesInScripts(redis);
    const { recorded, statsError } = await endOperation(
      redis,
      keys(job),
      outcome,
      entry(job, outcome, { ...extra, at }),
      MESSAGE_LIST_CAP,
      ride ? counts : undefined,
    );
    if (statsError) notCounted(outcome)(new Error(statsError));
    if (recorded && !ride) await counts.issue(redis).catch(notCounted(outcome));
    if (recorded) await ended(job, outcome);
    return recorded;
  }

  async function record(
    job: DeliveryJobData,
    outcome: DeliveryOutcome,
    extra: Record<string, unknown>,
    at: number,
  ) {
    try {
      await withRetries(() => end(job, outcome, extra, at), recordRetry);
    } catch (error) {
      throw new OutcomeNotRecordedError(outcome, extra, at, error);
    }
  }

  async function abandon(job: Job<DeliveryJobData>, err: Error): Promise<void> {
    const attempts = job.opts.attempts ?? 1;
    if (!(err instanceof UnrecoverableError) && job.attemptsMade < attempts) return;
    // Our own unrecoverable failures were recorded before they were thrown: this is then a no-op.
    const why =
      err instanceof UnrecoverableError
        ? `BullMQ gave up on the job: ${err.message}`
        : `gave up after ${attempts} attempts: ${err.message}`;
    const at = clock.now();
    const abandoned = await abandonOperation(
      redis,
      keys(job.data),
      channel,
      {
        unknown: entry(job.data, 'unknown', {
          reason: `${why}; a run had handed it to ${provider} and no answer was recorded, so it may or may not have arrived`,
          provider,
          at,
        }),
        failed: entry(job.data, 'failed', { reason: why, at }),
      },
      MESSAGE_LIST_CAP,
    );
    if (!abandoned) return;
    await outcomeCounts(job.data, abandoned, at).issue(redis).catch(notCounted(abandoned));
    await ended(job.data, abandoned);
  }

  return { keys, entry, end, record, abandon };
}
