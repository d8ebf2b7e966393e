import type { Logger } from '../logger.js';
import type { RedisConnection } from '../redis/connection.js';
import { LuaScript } from '../store/lua-script.js';
import { MAX_QUEUE_SHARDS } from './queue-shards.js';
import {
  createQueueShards,
  queuePrefix,
  queuesOf,
  shardQueues,
  type Queues,
  type QueueShard,
} from './queues.js';

/**
 * The key holding the most queue shards any process of this prefix was given, in shard 0's hash
 * tag. A process given fewer shards (while QUEUE_SHARDS is being changed) reads it to work, look
 * in and show the shards its own count does not reach: its workers, erasure, the sweep, the
 * dashboard and metrics.
 */
export function shardCountKey(prefix: string): string {
  return `${queuePrefix(prefix)}:queue-shards`;
}

/** KEYS: the shard count key. ARGV: a count. Keeps the larger of the two. */
const recordShardCountScript = new LuaScript(`
local count = tonumber(ARGV[1])
local recorded = redis.call('TYPE', KEYS[1]).ok == 'string' and tonumber(redis.call('GET', KEYS[1])) or nil
if recorded == nil or count > recorded then redis.call('SET', KEYS[1], count) end
return 1
`);

/** Records `count` as in use, unless more shards were recorded (one shard needs no record). */
export async function recordShardCount(redis: RedisConnection, prefix: string, count: number): Promise<void> {
  if (count > 1) await recordShardCountScript.run(redis, [shardCountKey(prefix)], [count]);
}

/**
 * The most shards any process recorded, and at least `own`: `own` when the record is missing or
 * unreadable (not a whole number, or a key of another type, which the next record replaces).
 */
export async function recordedShardCount(
  redis: RedisConnection,
  prefix: string,
  own: number,
): Promise<number> {
  const recorded = Number(await redis.get(shardCountKey(prefix)).catch(() => null));
  return Number.isInteger(recorded) ? Math.min(MAX_QUEUE_SHARDS, Math.max(own, recorded)) : own;
}

/** Told of shards found beyond those known before, and of the count they make. */
export type ShardsFound = (added: readonly QueueShard[], count: number) => void;

/**
 * An engine's queue shards as every process of its prefix sees them: this process's own
 * (QUEUE_SHARDS), then the shards beyond them that another process recorded (see shardCountKey).
 *
 * The queues of a shard beyond are opened once, when it is first found, and kept until `close`:
 * the worker pool starts workers on them, the dashboard lists them, metrics read them, erasure
 * looks in them. A record raised later is found by `widen` (each erasure calls it) and by `watch`,
 * which looks every interval, so an API process shows a raised count without a restart.
 */
export class RecordedShards {
  readonly #beyond: QueueShard[] = [];
  readonly #listeners: ShardsFound[] = [];
  #current: Queues;
  #reading: Promise<Queues> | undefined;
  #watching: NodeJS.Timeout | undefined;
  #closed = false;

  constructor(
    /** This process's own queues. */
    readonly own: Queues,
    private readonly redis: RedisConnection,
    private readonly logger: Logger,
    /** How often `watch` looks at the record. */
    readonly intervalMs: number,
  ) {
    this.#current = own;
  }

  /** Every shard found so far: this process's own, then those beyond. */
  get current(): Queues {
    return this.#current;
  }

  /** The shards beyond this process's own found so far. */
  get beyond(): readonly QueueShard[] {
    return this.#beyond;
  }

  /**
   * Reads the record and opens the queues of shards it names beyond those found so far; answers
   * every shard found. One read at a time: callers meanwhile share it, unless `fresh`, which reads
   * again after it (erasure must see a count raised after it took the customer's lease). An
   * unreadable record (or Redis away) reads as no more shards than found already.
   */
  widen(fresh = false): Promise<Queues> {
    if (this.#reading && !fresh) return this.#reading;
    const reading: Promise<Queues> = (this.#reading ?? Promise.resolve())
      .catch(() => undefined)
      .then(() => this.#read())
      .finally(() => {
        if (this.#reading === reading) this.#reading = undefined;
      });
    this.#reading = reading;
    return reading;
  }

  async #read(): Promise<Queues> {
    const found = this.#current.shards.length;
    const count = await recordedShardCount(this.redis, this.own.prefix, found);
    // After the await: nothing opens after close.
    if (count <= found || this.#closed) return this.#current;
    const added = createQueueShards(this.own.connection, this.own.prefix, found, count);
    this.#beyond.push(...added);
    this.#current = queuesOf(this.own.connection, this.own.prefix, [...this.own.shards, ...this.#beyond]);
    this.logger.warn(
      { queueShards: this.own.shards.length, recorded: count },
      'QUEUE_SHARDS is below what another process was given: the shards beyond it are worked and shown too',
    );
    for (const listener of this.#listeners) {
      try {
        listener(added, count);
      } catch (err) {
        this.logger.error({ err }, 'could not take up newly recorded queue shards');
      }
    }
    return this.#current;
  }

  /** Calls `listener` with the shards each later read finds; returns what stops it. */
  onFound(listener: ShardsFound): () => void {
    this.#listeners.push(listener);
    return () => {
      const at = this.#listeners.indexOf(listener);
      if (at >= 0) this.#listeners.splice(at, 1);
    };
  }

  /** Reads the record now, and every `intervalMs` until close (one interval however often called). */
  watch(): void {
    if (this.#closed) return;
    const look = () =>
      void this.widen().catch((err: unknown) =>
        this.logger.error({ err }, 'could not read the recorded queue shard count'),
      );
    look();
    this.#watching ??= setInterval(look, this.intervalMs).unref();
  }

  /**
   * Stops watching and opens nothing more. It does not wait for a read in flight (with Redis away
   * it could wait for ever): the read checks, after it, that the shards are not closed.
   */
  stop(): void {
    this.#closed = true;
    clearInterval(this.#watching);
  }

  /** Stops, and closes the queues opened for the shards beyond (the engine closes its own). */
  async close(): Promise<void> {
    this.stop();
    await Promise.all(this.#beyond.flatMap(shardQueues).map((queue) => queue.close()));
  }
}
