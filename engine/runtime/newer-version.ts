import { DelayedError, type Job } from 'bullmq';
import { ChorusError } from '../errors.js';

/**
 * Data written by a newer version of Chorus than this worker (a job, an inbox event, an
 * instance), met during a rolling upgrade. The worker must not guess at it: the job is put back
 * for later (see leaveForNewerWorker), the customer's later events waiting behind it in order.
 * By then a newer worker has taken it.
 */
export class NewerVersionError extends ChorusError {
  /**
   * Without `version`: `what` is something this worker does not load that a newer release may;
   * `orRemoved` says what to do when it was removed instead.
   */
  constructor(what: string, version?: unknown, orRemoved?: string) {
    super(
      'CHORUS_NEWER_VERSION',
      (version === undefined
        ? `${what} is not loaded by this worker; it is left for a worker of a newer release and retried later. `
        : `${what} is of version ${JSON.stringify(version)}, newer than this worker reads; it is left for a newer worker and retried later. `) +
        `To fix: finish deploying the new version to every worker${orRemoved === undefined ? '' : `; ${orRemoved}`}.`,
    );
  }
}

/** The version `data` carries, when it is a number above `known`. */
export function newerVersionOf(data: unknown, known: number): number | undefined {
  const version = typeof data === 'object' && data !== null ? (data as { v?: unknown }).v : undefined;
  return typeof version === 'number' && version > known ? version : undefined;
}

/** Throws {@link NewerVersionError} when `data` carries a number `v` above `known`. */
export function refuseNewer(what: string, data: unknown, known: number): void {
  const version = newerVersionOf(data, known);
  if (version !== undefined) throw new NewerVersionError(what, version);
}

/**
 * How long something this worker does not load (a journey an API entry names, a message a send
 * names) is left for a worker of a newer release that may, counted from when it was accepted or
 * decided: a rolling deployment or a canary that added it reaches it within the hour, retried
 * every {@link NEWER_VERSION_RECHECK_MS}. After it, it is taken to be gone (removed meanwhile).
 */
export const NEWER_RELEASE_GRACE_MS = 60 * 60_000;

/** How long a job that met a newer version waits before a worker looks at it again. */
export const NEWER_VERSION_RECHECK_MS = 15_000;

/**
 * Puts `job` back for a newer worker without spending an attempt, and ends this run. Failing
 * it instead would spend its retries: a send would end `failed`, and a timer job that cannot be
 * read never reaches the customer's inbox, so it would be lost, whenever an upgrade took longer
 * than the backoff, or one newer worker ran for days beside older ones (a canary) and the
 * retries kept landing on the older ones. A journey job keeps the customer's lease meanwhile:
 * its id is the lease token, so whichever worker runs it next takes the lease back.
 */
export async function leaveForNewerWorker(
  job: Job,
  token: string | undefined,
  error: NewerVersionError,
): Promise<never> {
  await job.moveToDelayed(Date.now() + NEWER_VERSION_RECHECK_MS, token);
  throw new DelayedError(error.message);
}
