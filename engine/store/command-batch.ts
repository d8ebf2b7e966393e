import type { RedisConnection } from '../redis/connection.js';
import { LuaScript } from './lua-script.js';

/** The writes the journey statistics queue up: a {@link CommandBatch}. */
export interface StatsWriter {
  /** Adds each field's increment to the hash, then (when given) sets its TTL. */
  hincrbyAll(key: string, increments: ReadonlyMap<string, number>, expireSeconds?: number): unknown;
  zadd(key: string, mode: 'NX', score: number, member: string): unknown;
  zremrangebyscore(key: string, min: string, max: number): unknown;
}

/** KEYS: hash. ARGV: TTL seconds (0: none), field, increment, ... */
const incrementAll = new LuaScript(`
for i = 2, #ARGV, 2 do redis.call('HINCRBY', KEYS[1], ARGV[i], ARGV[i + 1]) end
if tonumber(ARGV[1]) > 0 then redis.call('EXPIRE', KEYS[1], ARGV[1]) end
`);

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

  /**
   * One command for a whole hash: a step that enters or leaves a journey moves half a dozen
   * counters of it (state, stage, funnel, exit), and each command of its own cost the worker as
   * much CPU as the step's transition. Zero increments are left out.
   */
  hincrbyAll(key: string, increments: ReadonlyMap<string, number>, expireSeconds = 0): void {
    const args: Array<string | number> = [expireSeconds];
    for (const [field, by] of increments) if (by !== 0) args.push(field, by);
    if (args.length === 1) return;
    this.#replies.push(incrementAll.run(this.#redis, [key], args));
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
