import { ChorusError } from '../errors.js';

/**
 * Data written by a newer version of Chorus than this worker (a job, an inbox event, an
 * instance), met during a rolling upgrade. The worker must not guess at it: a journey job fails
 * and BullMQ retries it, the customer's later events waiting behind it in order; a delivery job
 * is put back for later (delivery-worker.ts). By then a newer worker has taken it.
 */
export class NewerVersionError extends ChorusError {
  constructor(what: string, version: unknown) {
    super(
      'CHORUS_NEWER_VERSION',
      `${what} is of version ${JSON.stringify(version)}, newer than this worker reads; it is left for a newer worker and retried later. ` +
        'To fix: finish deploying the new version to every worker.',
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
