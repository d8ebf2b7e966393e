import type { RedisOptions } from 'ioredis';

/** How long an API request waits for a Redis answer before it fails with 503 (API_REDIS_TIMEOUT_MS). */
export const DEFAULT_API_REDIS_TIMEOUT_MS = 5_000;

/**
 * How an API process connects to Redis (`workers/api-server.ts`, and the tests and benchmark that
 * stand in for it).
 *
 * - `enableOfflineQueue: false`, `maxRetriesPerRequest: 1`: while Redis is away requests fail at
 *   once and the app answers 503, rather than waiting for a reconnect.
 * - `enableAutoPipelining: true`: every request makes one or two Redis calls in turn (inbox
 *   append, drain job; the rate limit only now and then, see rate-limit.ts), and replies arrive
 *   in bunches, so the next calls of many requests are issued in the same tick. ioredis sends a
 *   tick's commands as one write rather than one socket write each, which was the largest single CPU cost of ingest. Commands keep the order
 *   they were issued in, so a batch's events still reach Redis in batch order. Only commands
 *   ioredis never auto-pipelines (MULTI, SCRIPT, ...) are sent ahead of a pending tick's batch;
 *   the API issues none that depend on an earlier command of the same tick. BullMQ's queues (the
 *   drain job) then get a plain connection of their own (`createEngine`), which keeps BullMQ's
 *   scripts off the pipelined one. Worker connections are not auto-pipelined, and neither is a
 *   Redis Cluster (`connectRedis` says why).
 * - `commandTimeout`: a Redis that is connected but does not answer (a network partition drops
 *   its packets silently; the connection stays up until TCP gives up, many minutes later) fails
 *   each command after this long, and the app answers 503 as for a Redis that is away.
 *   `API_REDIS_TIMEOUT_MS` sets it (`workers/api-server.ts`).
 */
export const API_REDIS_OPTIONS: Readonly<RedisOptions> = Object.freeze({
  enableOfflineQueue: false,
  maxRetriesPerRequest: 1,
  enableAutoPipelining: true,
  commandTimeout: DEFAULT_API_REDIS_TIMEOUT_MS,
});
