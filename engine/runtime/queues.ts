import { Queue, type ConnectionOptions, type DefaultJobOptions } from 'bullmq';
import { deliveryQueueName } from '../delivery/delivery-job.js';
import { CHANNELS, type Channel } from '../journey/journey-schema.js';
import type { RedisConnection } from '../redis/connection.js';
import { LuaScript } from '../store/lua-script.js';
import { checkShardCount, MAX_QUEUE_SHARDS, shardHashTags, shardOf, shardQueueName } from './queue-shards.js';

export const JOURNEY_QUEUE = 'journeys';

/**
 * BullMQ's prefix carries a hash tag, so every key of a queue lands in one Redis Cluster slot,
 * as BullMQ requires; on a single Redis it is just a name. This is shard 0's; the other shards
 * have tags of their own (see shardHashTags).
 */
export function queuePrefix(prefix: string): string {
  return `{${prefix}}`;
}

/**
 * Glob patterns for every key an engine with this prefix writes: its own (`<prefix>:…`), shard
 * 0's queues (`{<prefix>}:…`) and the other shards' (`{<prefix>:q<k>}:…`, see shardHashTags).
 */
export function engineKeyPatterns(prefix: string): string[] {
  return [`${prefix}:*`, `{${prefix}}:*`, `{${prefix}:q*}:*`];
}

/** Journey jobs retry infrastructure failures (Redis away, a lost lease); bad events never fail a job. */
export const JOURNEY_ATTEMPTS = 20;
/**
 * The journey worker's own backoff type: exponential from 500 ms, as the drain jobs' built-in
 * `{ type: 'exponential', delay: 500 }`, in fewer stored bytes (timer jobs name it, see timer-job.ts).
 */
export const JOURNEY_BACKOFF = 'journey';

export function journeyBackoffMs(attemptsMade: number): number {
  return Math.round(2 ** (attemptsMade - 1) * 500);
}

/** Also the journey worker's defaults, for jobs (timers) that do not store them. */
export const JOURNEY_REMOVE_ON_COMPLETE = { count: 0 };
export const JOURNEY_REMOVE_ON_FAIL = { age: 7 * 86_400 };

const journeyJobDefaults: DefaultJobOptions = {
  attempts: JOURNEY_ATTEMPTS,
  backoff: { type: 'exponential', delay: 500 },
  removeOnComplete: true,
  removeOnFail: JOURNEY_REMOVE_ON_FAIL,
};

const deliveryJobDefaults: DefaultJobOptions = {
  attempts: 10,
  // 'jittered' is the delivery worker's own strategy: exponential with equal jitter, Retry-After as a floor.
  backoff: { type: 'jittered' },
  removeOnComplete: { age: 86_400, count: 10_000 },
  removeOnFail: { age: 7 * 86_400 },
};

/** One shard's queues: the journey queue and a delivery queue per channel, all in one hash tag. */
export interface QueueShard {
  index: number;
  /** BullMQ's prefix for this shard's queues: `{<hash tag>}` (see shardHashTags). */
  prefix: string;
  journeys: Queue;
  deliveries: Record<Channel, Queue>;
}

/** The queues of shard `index`, whose hash tag is `tag` (see shardHashTags). */
export function createQueueShard(connection: ConnectionOptions, tag: string, index: number): QueueShard {
  const options = (defaultJobOptions: DefaultJobOptions) => ({
    connection,
    prefix: `{${tag}}`,
    defaultJobOptions,
  });
  return {
    index,
    prefix: `{${tag}}`,
    journeys: new Queue(shardQueueName(JOURNEY_QUEUE, index), options(journeyJobDefaults)),
    deliveries: Object.fromEntries(
      CHANNELS.map((channel) => [
        channel,
        new Queue(shardQueueName(deliveryQueueName(channel), index), options(deliveryJobDefaults)),
      ]),
    ) as Record<Channel, Queue>,
  };
}

/**
 * The engine's queues, split into `shardCount` shards (QUEUE_SHARDS, default 1) so that on a
 * Redis Cluster queue operations spread over the masters (see shardHashTags). Each customer's
 * jobs go to the shard `forCustomer` names. `journeys` and `deliveries` are shard 0's, the only
 * ones with one shard.
 */
export function createQueues(connection: ConnectionOptions, prefix: string, shardCount = 1) {
  checkShardCount(shardCount);
  const shards = shardHashTags(prefix, shardCount).map((tag, index) =>
    createQueueShard(connection, tag, index),
  );
  const first = shards[0]!;
  return {
    prefix,
    connection,
    journeys: first.journeys,
    deliveries: first.deliveries,
    shards,
    /** The shard whose queues carry the jobs of `customerId`. */
    forCustomer(customerId: string): QueueShard {
      return shards[shardOf(customerId, shards.length)]!;
    },
  };
}

export type Queues = ReturnType<typeof createQueues>;

/** Every queue the engine uses, for closing them and for dashboards. */
export function allQueues(queues: Queues): Queue[] {
  return queues.shards.flatMap((shard) => [shard.journeys, ...Object.values(shard.deliveries)]);
}

/**
 * The key holding the most queue shards any process of this prefix was given, in shard 0's hash
 * tag: while QUEUE_SHARDS is being raised, the processes that must find every job (erasure, the
 * timer promotion) read it to look in shards their own count does not reach.
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

/**
 * The engine's queues, widened to every shard a process recorded (see shardCountKey), for a reader
 * that must find every job; `close` closes what was opened for it. The same queues when no
 * process has more shards than this one.
 */
export async function widestQueues(
  queues: Queues,
  redis: RedisConnection,
): Promise<{ queues: Queues; close(): Promise<void> }> {
  const count = await recordedShardCount(redis, queues.prefix, queues.shards.length);
  if (count === queues.shards.length) return { queues, close: async () => undefined };
  const wider = createQueues(queues.connection, queues.prefix, count);
  return {
    queues: wider,
    close: async () => {
      await Promise.all(allQueues(wider).map((queue) => queue.close()));
    },
  };
}

/** Every shard's journey queue. */
export function journeyQueues(queues: Queues): Queue[] {
  return queues.shards.map((shard) => shard.journeys);
}
