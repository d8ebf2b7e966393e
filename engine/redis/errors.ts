import { ChorusError } from '../errors.js';

/**
 * No Redis could be found or started: nothing answered on the default URL and the private
 * `redis-server` could not be started (binary missing, crashed, or never answered PING).
 *
 * Permanent for this process: retrying will not install Redis, so entry points should log the
 * message (it carries the fix) and exit.
 *
 * @example
 * ```ts
 * try {
 *   await resolveRedis({ url: process.env.REDIS_URL });
 * } catch (error) {
 *   if (error instanceof RedisUnavailableError) process.exitCode = 1;
 *   throw error;
 * }
 * ```
 */
export class RedisUnavailableError extends ChorusError {
  static readonly code = 'CHORUS_REDIS_UNAVAILABLE';

  /** @param message shaped "what happened. To fix: ...". */
  constructor(message: string, options?: { cause?: unknown }) {
    super(RedisUnavailableError.code, message, options);
  }
}
