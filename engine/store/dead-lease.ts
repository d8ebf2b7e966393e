import type { Queue } from 'bullmq';
import type { RedisConnection } from '../redis/connection.js';
import { journeyQueues } from '../runtime/queues.js';
import type { RecordedShards } from '../runtime/recorded-shards.js';
import type { CustomerKeys } from './customer-keys.js';
import type { CustomerStore } from './customer-store.js';

/**
 * Takes over the customer's lease from a journey job (drain or timer; its id is its token) that
 * holds it while no worker runs it: a run whose step failed, or that died, keeps the lease so
 * that its retry goes first, and left alone it would answer the erasure `CHORUS_CUSTOMER_BUSY`
 * until it expires. Nothing of the customer runs under such a lease, and its job, taken up again,
 * finds the customer held and ends. A job a worker holds (active, or its lock still there: a
 * worker may be running it after the stalled-check took it back) is waited for: its
 * step may be running. The job is looked at again once the lease is taken, and the lease handed
 * back if a worker took the job up in between; the next look finds it ended, or still running.
 * Erasures (`erase-…`) are never taken over. Returns whether the lease was taken.
 */
export async function takeDeadLease(
  store: CustomerStore,
  shards: RecordedShards,
  keys: CustomerKeys,
  token: string,
  leaseMs: number,
): Promise<boolean> {
  const holder = await store.redis.get(keys.lease);
  if (holder === null || !JOURNEY_JOB_ID.test(holder)) return false;
  const queues = journeyQueues(await shards.widen(true));
  if (await heldByWorker(store.redis, queues, holder)) return false;
  if (!(await store.handOverLease(keys, holder, token, leaseMs))) return false;
  if (!(await heldByWorker(store.redis, queues, holder))) return true;
  await store.handOverLease(keys, token, holder);
  return false;
}

/** Drain (`d-…`) and timer (`t-…`) job ids, the tokens of the journey worker's leases. */
const JOURNEY_JOB_ID = /^[dt]-/;

/** Whether a worker holds the journey job `jobId` in any of `queues`: it is active, or its lock is there. */
async function heldByWorker(redis: RedisConnection, queues: readonly Queue[], jobId: string) {
  for (const queue of queues) {
    const [state, locked] = await Promise.all([
      queue.getJobState(jobId),
      redis.exists(`${queue.toKey(jobId)}:lock`),
    ]);
    if (state === 'active' || locked === 1) return true;
  }
  return false;
}
