import calculateSlot from 'cluster-key-slot';
import { ChorusError } from '../errors.js';
import { customerToken } from './ids.js';

/** How many slots a Redis Cluster has. */
const SLOTS = 16_384;

/** Most queue shards an engine may split its queues into (QUEUE_SHARDS). */
export const MAX_QUEUE_SHARDS = 64;

/** Where shard `s` sits round the slot space: the fractional part of `s` times the golden ratio. */
const GOLDEN = (Math.sqrt(5) - 1) / 2;

/** How close to its place a shard's slot must be: about a thousand tries to find a tag. */
const LEEWAY = 16;

/**
 * The hash tag (inside the braces of BullMQ's prefix) of each queue shard. BullMQ keeps every key
 * of a queue in one Cluster slot, so with one set of queues every queue operation lands on one
 * master, however many there are. Shard 0 keeps the prefix itself as its tag, so a deployment
 * that had one set of queues goes on using them. Shard `s` gets `<prefix>:q<k>`, with the
 * smallest `k` whose slot lies within a few slots of `s` times the golden ratio round the slot
 * space, counted from shard 0's. A shard's tag depends on its index alone, never on the count:
 * raising QUEUE_SHARDS keeps every shard (and the jobs waiting in it) where it was. The golden
 * ratio spreads any number of shards fairly evenly, with gaps of at most two sizes; a cluster
 * made with `redis-cli --cluster create` gives each master one equal run of slots, so shards
 * spread over its masters (for the prefix `chorus`, three shards land on three masters). The
 * same prefix gives the same tags in every process.
 */
export function shardHashTags(prefix: string, count: number): string[] {
  let tags = tagsByPrefix.get(prefix);
  if (tags === undefined) tagsByPrefix.set(prefix, (tags = [prefix]));
  const first = calculateSlot(prefix);
  for (let shard = tags.length; shard < count; shard++) {
    const place = first + ((shard * GOLDEN) % 1) * SLOTS;
    for (let k = 0; ; k++) {
      const tag = `${prefix}:q${k}`;
      // How far past this shard's place, wrapping round the slot space.
      if ((calculateSlot(tag) - place + 2 * SLOTS) % SLOTS < LEEWAY) {
        tags.push(tag);
        break;
      }
    }
  }
  return tags.slice(0, count);
}

/** Tags found so far, by prefix: a shard's tag never changes, and finding one costs a millisecond or so. */
const tagsByPrefix = new Map<string, string[]>();

/**
 * Which shard's queues carry the jobs of `customerId`: a fixed function of the id, so the jobs
 * of one customer go to one shard. Nothing depends on it for correctness, only for spreading
 * the load: the customer's lease and inbox keep their events in order whichever queue a job
 * comes from, a timer whose cancellation missed it is dropped when it fires, and the ledger
 * sends an operation once however many jobs carry it. That is why processes with different
 * counts can run side by side while QUEUE_SHARDS is being raised.
 */
export function shardOf(customerId: string, count: number): number {
  // The token, not the id: braces in an id (`{tenant}-123`) would make calculateSlot hash only
  // what they enclose, and put a whole tenant in one shard.
  return count === 1 ? 0 : calculateSlot(customerToken(customerId)) % count;
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
