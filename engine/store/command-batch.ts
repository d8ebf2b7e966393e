import type { RedisConnection } from '../redis/connection.js';

/** The writes the journey statistics queue up: a {@link CommandBatch}. */
export interface StatsWriter {
  hincrby(key: string, field: string, increment: number): unknown;
  expire(key: string, seconds: number): unknown;
  zadd(key: string, mode: 'NX', score: number, member: string): unknown;
  zremrangebyscore(key: string, min: string, max: number): unknown;
}

/**
 * Statistics writes issued one by one, in order, without waiting in between; `done()` settles
 * when all have been answered and throws the first error, as `pipeline.exec()` callers did.
 *
 * Why not a pipeline: ioredis copies every script defined on a connection onto each new pipeline,
 * and BullMQ defines dozens on the engine's connection, so `redis.pipeline()` alone cost about
 * 60 µs of CPU: more than the xstate transition of the step it recorded. Commands issued in the
 * same tick still go out back to back on the one connection, and like a pipeline they are not a
 * transaction. On a Redis Cluster each goes to the node of its key's slot, which a pipeline cannot
 * (every key of a pipeline must share one slot), so the same batch serves both.
 */
export class CommandBatch implements StatsWriter {
  readonly #redis: RedisConnection;
  readonly #replies: Array<Promise<unknown>> = [];
  constructor(redis: RedisConnection) {
    this.#redis = redis;
  }

  get length(): number {
    return this.#replies.length;
  }

  hincrby(key: string, field: string, increment: number): void {
    this.#replies.push(this.#redis.hincrby(key, field, increment));
  }

  expire(key: string, seconds: number): void {
    this.#replies.push(this.#redis.expire(key, seconds));
  }

  zadd(key: string, mode: 'NX', score: number, member: string): void {
    this.#replies.push(this.#redis.zadd(key, mode, score, member));
  }

  zremrangebyscore(key: string, min: string, max: number): void {
    this.#replies.push(this.#redis.zremrangebyscore(key, min, max));
  }

  /** Waits for every reply; rejects with the first error once all have settled. */
  async done(): Promise<void> {
    const settled = await Promise.allSettled(this.#replies);
    const failed = settled.find((result) => result.status === 'rejected');
    if (failed) throw failed.reason;
  }
}
