import { UnrecoverableError } from 'bullmq';
import type { DeliveryOutcome } from './delivery-ledger.js';

// Signals from the delivery processor to BullMQ, never seen by callers of the engine: they only
// steer the job (retry after a delay, or stop) and end up as its failed reason.

/** A provider asked to try again later; the worker's backoff strategy reads `afterMs`. */
export class RetryLaterError extends Error {
  constructor(
    reason: string,
    readonly afterMs: number | undefined,
  ) {
    super(reason);
    this.name = 'RetryLaterError';
  }
}

/**
 * Another run holds a live claim on the operation (a stalled job run again while its first run is
 * still with the provider). Not a failed attempt: the worker puts the job back for `afterMs`
 * without spending one. Spent on a last attempt, BullMQ would give the job up and its `failed`
 * handler end the send `unknown`, while the holder may yet record `sent`. The wait is bounded: by
 * then the claim has ended, or gone stale and the next run resumes it.
 */
export class ClaimHeldError extends Error {
  constructor(
    opId: string,
    readonly afterMs: number,
  ) {
    super(`operation ${opId} is being sent by another run`);
    this.name = 'ClaimHeldError';
  }
}

/**
 * The provider answered but the outcome could not be written, even after retries in process.
 * Unrecoverable, since a re-run would send again; the worker's `failed` listener writes it
 * once more (BullMQ emits `failed` only after it could write to Redis itself).
 */
export class OutcomeNotRecordedError extends UnrecoverableError {
  constructor(
    readonly outcome: DeliveryOutcome,
    readonly extra: Record<string, unknown>,
    readonly at: number,
    cause: unknown,
  ) {
    super(`the message was ${outcome} but the outcome could not be recorded: ${(cause as Error).message}`);
    this.name = 'OutcomeNotRecordedError';
  }
}
