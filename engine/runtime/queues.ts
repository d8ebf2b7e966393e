import { Queue, type ConnectionOptions, type DefaultJobOptions } from 'bullmq';
import { deliveryQueueName } from '../delivery/delivery-job.js';
import { CHANNELS, type Channel } from '../journey/journey-schema.js';
import { checkShardCount, shardHashTags, shardOf, shardQueueName } from './queue-shards.js';

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

/**
 * How many events each queue's event log (BullMQ's `<queue>:events` stream) keeps, against
 * BullMQ's default of 10,000. Nothing of Chorus reads the log (the dashboard polls the queues),
 * and each entry names its job, whose id names the customer: erasure reads the log through to
 * delete those (queue-event-erasure.ts), so a shorter one makes every erasure cheaper, and takes
 * less of Redis's memory.
 */
export const QUEUE_EVENTS_KEPT = 1_000;

/** The queues of shard `index`, whose hash tag is `tag` (see shardHashTags). */
export function createQueueShard(connection: ConnectionOptions, tag: string, index: number): QueueShard {
  const options = (defaultJobOptions: DefaultJobOptions) => ({
    connection,
    prefix: queuePrefix(tag),
    defaultJobOptions,
    streams: { events: { maxLen: QUEUE_EVENTS_KEPT } },
  });
  return {
    index,
    prefix: queuePrefix(tag),
    journeys: quiet(new Queue(shardQueueName(JOURNEY_QUEUE, index), options(journeyJobDefaults))),
    deliveries: Object.fromEntries(
      CHANNELS.map((channel) => [
        channel,
        quiet(new Queue(shardQueueName(deliveryQueueName(channel), index), options(deliveryJobDefaults))),
      ]),
    ) as Record<Channel, Queue>,
  };
}

/**
 * A queue echoes each error of its connection (Redis away: every failed reconnect), and BullMQ
 * prints an echo nobody listens for to stderr, stack and all: with Redis gone, a process wrote
 * hundreds of them around its own logs. The connection's owner reports its errors; a failed queue
 * call rejects to its caller.
 */
function quiet(queue: Queue): Queue {
  queue.on('error', () => {});
  return queue;
}

/** The queues of shards `from` up to `count` (exclusive) of `prefix`. */
export function createQueueShards(
  connection: ConnectionOptions,
  prefix: string,
  from: number,
  count: number,
): QueueShard[] {
  return shardHashTags(prefix, count)
    .slice(from)
    .map((tag, i) => createQueueShard(connection, tag, from + i));
}

/**
 * The engine's queues, split into `shardCount` shards (QUEUE_SHARDS, default 1) so that on a
 * Redis Cluster queue operations spread over the masters (see shardHashTags). Each customer's
 * jobs go to the shard `forCustomer` names. `journeys` and `deliveries` are shard 0's, the only
 * ones with one shard.
 */
export function createQueues(connection: ConnectionOptions, prefix: string, shardCount = 1) {
  checkShardCount(shardCount);
  return queuesOf(connection, prefix, createQueueShards(connection, prefix, 0, shardCount));
}

/** Queues over `shards`, which start with shard 0 and go on without a gap. */
export function queuesOf(connection: ConnectionOptions, prefix: string, shards: readonly QueueShard[]) {
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

/** The queues of one shard: its journey queue and its delivery queue of every channel. */
export function shardQueues(shard: QueueShard): Queue[] {
  return [shard.journeys, ...Object.values(shard.deliveries)];
}

/** Every queue the engine uses, for closing them and for dashboards. */
export function allQueues(queues: Queues): Queue[] {
  return queues.shards.flatMap(shardQueues);
}

/** Every shard's journey queue. */
export function journeyQueues(queues: Queues): Queue[] {
  return queues.shards.map((shard) => shard.journeys);
}
