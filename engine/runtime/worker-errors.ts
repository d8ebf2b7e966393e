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

/** Logs a worker's `error` event: a lost lock is expected after a stall, so it is a warning. */
export function logWorkerError(logger: Logger, err: Error, context: Record<string, unknown>, what: string) {
  if (isLostLock(err)) {
    logger.warn({ err, ...context }, `${what}: a run finished after its job was taken back (lock lapsed)`);
    return;
  }
  logger.error({ err, ...context }, `${what} error`);
}
