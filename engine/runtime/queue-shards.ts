import calculateSlot from 'cluster-key-slot';
import { ChorusError } from '../errors.js';

/** How many slots a Redis Cluster has. */
const SLOTS = 16_384;

/** Most queue shards an engine may split its queues into (QUEUE_SHARDS). */
export const MAX_QUEUE_SHARDS = 64;

/**
 * The hash tag (inside the braces of BullMQ's prefix) of each queue shard. BullMQ keeps every key
 * of a queue in one Cluster slot, so with one set of queues every queue operation lands on one
 * master, however many there are. Shard 0 keeps the prefix itself as its tag, so a deployment
 * that had one set of queues goes on using them. Shard `s` gets `<prefix>:q<k>`, with the
 * smallest `k` whose slot lies within a few slots past `s` n-ths of the slot space after shard
 * 0's. The shards' slots are then spaced evenly round the slot space, and a cluster made with
 * `redis-cli --cluster create` gives each of its masters one equal run of slots: with as many
 * shards as masters each master gets one shard (all but certainly: two share one only when
 * shard 0's slot lies within those few slots of the end of its master's run), with twice as many,
 * two. The same prefix and count give the same tags in every process.
 */
export function shardHashTags(prefix: string, count: number): string[] {
  const first = calculateSlot(prefix);
  const span = SLOTS / count;
  // Finding a tag takes about 16,384 / leeway tries: 4,000 at most, a millisecond or so.
  const leeway = Math.max(4, Math.ceil(span / 256));
  const tags = [prefix];
  for (let shard = 1; shard < count; shard++) {
    const from = first + shard * span;
    for (let k = 0; ; k++) {
      const tag = `${prefix}:q${k}`;
      // How far past this shard's place, wrapping round the slot space.
      if ((calculateSlot(tag) - from + 2 * SLOTS) % SLOTS < leeway) {
        tags.push(tag);
        break;
      }
    }
  }
  return tags;
}

/**
 * Which shard's queues carry the jobs of `customerId`: a fixed function of the id, so the jobs
 * of one customer go to one shard. Nothing depends on it for correctness, only for spreading
 * the load: the customer's lease and inbox keep their events in order whichever queue a job
 * comes from, a timer whose cancellation missed it is dropped when it fires, and the ledger
 * sends an operation once however many jobs carry it. That is why processes with different
 * counts can run side by side while QUEUE_SHARDS is being raised.
 */
export function shardOf(customerId: string, count: number): number {
  return count === 1 ? 0 : calculateSlot(customerId) % count;
}

/** The queue `base` of shard `shard`: names differ between shards for the dashboard and metrics. */
export function shardQueueName(base: string, shard: number): string {
  return shard === 0 ? base : `${base}-${shard}`;
}

/**
 * The BullMQ rate limit of one shard's queue of a channel, so that the shards together keep to
 * `limit`: each may send a share of `max` (at least 1) in a window stretched to keep the average
 * exact. With fewer than `shards` sends a window, one may come from every shard at once.
 */
export function shardLimiter(
  limit: { max: number; duration: number },
  shards: number,
): { max: number; duration: number } {
  const max = Math.max(1, Math.floor(limit.max / shards));
  return { max, duration: Math.round((limit.duration * shards * max) / limit.max) };
}

export class QueueShardsError extends ChorusError {
  constructor(count: number) {
    super(
      'CHORUS_QUEUE_SHARDS_INVALID',
      `The engine was asked for ${count} queue shards; it takes a whole number from 1 to ${MAX_QUEUE_SHARDS}. ` +
        'To fix: set QUEUE_SHARDS (the queueShards option of createEngine) to such a number, the same on every process.',
    );
  }
}

/** Throws {@link QueueShardsError} unless `count` is a shard count the engine takes. */
export function checkShardCount(count: number): void {
  if (!Number.isInteger(count) || count < 1 || count > MAX_QUEUE_SHARDS) throw new QueueShardsError(count);
}
