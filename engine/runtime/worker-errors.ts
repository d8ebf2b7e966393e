import { ErrorCode } from 'bullmq';
import type { Logger } from '../logger.js';

/**
 * BullMQ refused to finish a job because this run no longer held its lock: the run outlived its
 * lock (a blocked event loop, a long provider call) and the job was taken back by the stalled
 * check. The work itself is safe (the runtime commits under its own lease, deliveries record
 * their outcome in the ledger); only BullMQ's bookkeeping of this run is dropped, and the run
 * that holds the job now finishes it.
 */
export function isLostLock(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return code === ErrorCode.JobLockNotExist || code === ErrorCode.JobLockMismatch;
}

/**
 * The job whose lock BullMQ's lock manager could not renew, from the error it emits: the lock had
 * lapsed before the renewal reached Redis (an event loop or a Redis slower than half the lock's
 * duration). The error carries no code, only this message.
 */
export function lapsedLockJobId(err: unknown): string | undefined {
  const message = (err as { message?: unknown } | null)?.message;
  if (typeof message !== 'string') return undefined;
  return /^could not renew lock for job (.+)$/s.exec(message)?.[1];
}

/**
 * Logs a worker's `error` event. A lost lock is expected after a stall, so it is a warning, and
 * so is the lapse that leads to it: the run goes on, and the job is re-run by the stalled check
 * (the runtime's lease and the delivery ledger keep that re-run from applying or sending twice).
 */
export function logWorkerError(logger: Logger, err: Error, context: Record<string, unknown>, what: string) {
  if (isLostLock(err)) {
    logger.warn({ err, ...context }, `${what}: a run finished after its job was taken back (lock lapsed)`);
    return;
  }
  const lapsed = lapsedLockJobId(err);
  if (lapsed !== undefined) {
    logger.warn(
      { jobId: lapsed, ...context },
      `${what}: the lock of a running job lapsed before it was renewed; the stalled check will re-run it ` +
        '(if this repeats, the process is starved of CPU or LOCK_DURATION_MS is too short)',
    );
    return;
  }
  logger.error({ err, ...context }, `${what} error`);
}
