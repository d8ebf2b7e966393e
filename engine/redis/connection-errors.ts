import type { Logger } from '../logger.js';
import { CONNECTION_ERROR_LOG_EVERY_MS } from '../runtime/worker-errors.js';
import type { RedisConnection } from './connection.js';

export interface ConnectionErrorLogOptions {
  /** How often, at most, a warning says the connection is still failing. Default 30 s. */
  everyMs?: number;
  now?: () => number;
}

/**
 * Logs the errors of a connection its owner keeps: a warning for the first, then at most one per
 * `everyMs` while they last, each counting those left out since (`leftOut`), and a line when it
 * is ready again. ioredis emits an error for every failed reconnect, a few a second while Redis is
 * away, which logged one line each, for as long as the outage lasted.
 *
 * @example
 * logConnectionErrors(redis, logger, 'redis connection');
 */
export function logConnectionErrors(
  redis: Pick<RedisConnection, 'on'>,
  logger: Logger,
  what: string,
  options: ConnectionErrorLogOptions = {},
): void {
  const everyMs = options.everyMs ?? CONNECTION_ERROR_LOG_EVERY_MS;
  const now = options.now ?? Date.now;
  let loggedAt: number | undefined;
  let leftOut = 0;
  redis.on('error', (err: Error) => {
    const at = now();
    if (loggedAt !== undefined && at - loggedAt < everyMs) {
      leftOut += 1;
      return;
    }
    logger.warn(
      { err: err.message, ...(leftOut > 0 ? { leftOut } : {}) },
      `${what} error; retrying (logged once per ${everyMs / 1000} s while it lasts)`,
    );
    loggedAt = at;
    leftOut = 0;
  });
  redis.on('ready', () => {
    if (loggedAt === undefined) return;
    logger.info({ ...(leftOut > 0 ? { leftOut } : {}) }, `${what} is back`);
    loggedAt = undefined;
    leftOut = 0;
  });
}
