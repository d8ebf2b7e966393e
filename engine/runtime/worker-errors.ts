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

// What a socket to an unreachable Redis fails with.
const CONNECTION_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
]);

/** Whether a worker's error is its Redis connection's: lost, refused, or closed while it reconnects. */
export function isConnectionError(err: unknown): boolean {
  const { code, message } = (err ?? {}) as { code?: unknown; message?: unknown };
  if (typeof code === 'string' && CONNECTION_CODES.has(code)) return true;
  return typeof message === 'string' && /^(?:Connection is closed|Stream isn't writeable)/.test(message);
}

/** How often a worker logs that its Redis connection is still lost. */
export const CONNECTION_ERROR_LOG_EVERY_MS = 30_000;

/**
 * A worker's `error` handler: {@link logWorkerError}, except that the errors of a lost Redis
 * connection, which BullMQ emits for every command and blocking call while Redis is away (many
 * a second per worker), are a warning once per `everyMs`, counting the ones left out since. The
 * connection's owner logs the connection's own errors; the worker only waits for it.
 */
export function workerErrorHandler(
  logger: Logger,
  context: Record<string, unknown>,
  what: string,
  options: { everyMs?: number; now?: () => number } = {},
): (err: Error) => void {
  const everyMs = options.everyMs ?? CONNECTION_ERROR_LOG_EVERY_MS;
  const now = options.now ?? Date.now;
  let loggedAt = -Infinity;
  let leftOut = 0;
  return (err) => {
    if (!isConnectionError(err)) return logWorkerError(logger, err, context, what);
    const at = now();
    if (at - loggedAt < everyMs) {
      leftOut += 1;
      return;
    }
    logger.warn(
      { err, ...context, ...(leftOut > 0 ? { leftOut } : {}) },
      `${what}: its Redis connection is lost; its jobs wait for it (logged once per ${everyMs / 1000} s)`,
    );
    loggedAt = at;
    leftOut = 0;
  };
}
