import { describeRedisTarget, type RedisConnection, type RedisTarget } from './connection.js';
import { RedisUnavailableError } from './errors.js';

/**
 * Waits for Redis to answer once, or says which Redis did not and how to name the right one: a
 * command line waits for nobody, and the engine's own calls would fail with ioredis's retry error
 * (and its unhandled connection errors) instead. The usual cause is an engine running a private
 * Redis whose REDIS_URL was not given. On failure the connection is closed.
 *
 * @throws {RedisUnavailableError} when Redis does not answer.
 * @example
 * const redis = connectRedis(target, { maxRetriesPerRequest: 1 });
 * await redisAnswering(redis, target);
 */
export async function redisAnswering(redis: RedisConnection, target: RedisTarget): Promise<void> {
  let lastError: Error | undefined;
  redis.on('error', (error: Error) => (lastError = error));
  try {
    await redis.ping();
  } catch (error) {
    redis.disconnect();
    throw new RedisUnavailableError(
      `Redis at ${describeRedisTarget(target)} did not answer (${(lastError ?? (error as Error)).message}). ` +
        'To fix: start the engine (npm start) first, or set REDIS_URL (or REDIS_CLUSTER_NODES) to the Redis it runs on; ' +
        'a private redis-server is the Redis line npm start printed.',
      { cause: error },
    );
  }
}
