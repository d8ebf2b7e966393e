import { randomUUID } from 'node:crypto';
import type { ChannelAdapter } from '../channels/channel-adapter.js';
import type { Clock } from '../clock.js';
import { journeyQueues, type Queues } from '../runtime/queues.js';
import type { RecordedShards } from '../runtime/recorded-shards.js';
import { ERASED_TTL_MS, endErasedOperations, erasedOperation } from '../delivery/delivery-ledger.js';
import { erasedDeliveryData, type DeliveryJobData } from '../delivery/delivery-job.js';
import { ChorusError } from '../errors.js';
import type { RedisConnection } from '../redis/connection.js';
import { keysSharingTag } from '../redis/scan-keys.js';
import { seqOfInstanceId, type CustomerState } from '../runtime/instance-record.js';
import { parseStepJobId } from '../runtime/ids.js';
import { timerWheelKeys, type TimerWheel } from '../runtime/timer-wheel.js';
import { jobIndexMember, type CustomerJob, type CustomerJobIndex } from './customer-jobs.js';
import type { CustomerStore, LoadedCustomer } from './customer-store.js';
import { eraseConversions } from './conversion-log.js';
import {
  erasedResidue,
  queueCountDeltas,
  queueErasedCounts,
  removalDeltas,
  tallyDeltas,
} from './journey-counts.js';
import { deleteCounted } from './scripts.js';
import { ridesInScripts, StatsWrites } from './stats-writes.js';
import { queuePhoneIndexChange } from './phone-index.js';
import { eraseQueueEvents } from './queue-event-erasure.js';
import { eraseShortLinks } from '../tracking/short-links.js';
import { unnamedTimerJobs } from './unnamed-timers.js';
import { takeDeadLease } from './dead-lease.js';

export class CustomerBusyError extends ChorusError {
  constructor(customerId: string) {
    super(
      'CHORUS_CUSTOMER_BUSY',
      `Customer "${customerId}" is being advanced by a worker right now, so it could not be erased. ` +
        'To fix: retry the request in a few seconds.',
    );
  }
}

export interface ErasureResult {
  /** The customer's keys deleted: profile, instances, inbox, events, messages, ledger, in-app inbox, … */
  keys: number;
  /** Queued, delayed or finished jobs removed with their copy of the customer's data. */
  jobsRemoved: number;
  /**
   * Jobs a worker was running, which could not be removed. A send among them that was already
   * with its provider finishes; any later run of it finds its operation ended and sends nothing
   * (see endErasedOperations). Timer and drain jobs wait for the customer's lease and then find
   * an empty customer.
   */
  jobsRunning: number;
  /**
   * Files of the customer's messages deleted from the development outbox (`OUTBOX_DIR`), as far
   * as this process sees it (the same folder as the workers that wrote them).
   */
  outboxFiles: number;
}

export interface ErasureDependencies {
  store: CustomerStore;
  jobIndex: CustomerJobIndex;
  /**
   * Every shard's queues, also those beyond this process's count that another process recorded:
   * a customer's jobs sit in their shard's, or in another's made before QUEUE_SHARDS changed.
   */
  shards: RecordedShards;
  /** Where the customer's long timers may wait instead of the journey queue. */
  timerWheel?: TimerWheel;
  /** Stamps the operations the erasure ends (see endErasedOperations). */
  clock: Clock;
  /**
   * The channel adapters, whose own copies of the customer's messages (the outbox's files, see
   * ChannelAdapter's eraseCustomer) go too, where this process can see them.
   */
  adapters?: readonly ChannelAdapter[];
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * How long erasure holds the customer's lease. Finding the customer's keys scans the whole
 * keyspace on a single Redis (about two seconds per three million keys; on a Cluster only the
 * customer's slot is listed), which on a large one takes longer than a worker's lease: a drain
 * job would then take the customer back mid-erasure and enqueue sends the erasure never sees.
 * The erasure deletes the lease with the customer's other keys when it is done; one that fails
 * part-way leaves it to ABANDONED_ERASURE for the store's length, and one whose process dies
 * holds the customer's events back for this long at most.
 */
export const ERASURE_LEASE_MS = 15 * 60_000;

/**
 * The holder of the lease of a customer whose erasure failed part-way: the next erasure takes
 * the lease over at once, so a caller retrying after the failure is not answered
 * `CHORUS_CUSTOMER_BUSY` for as long as the lease lasts; workers wait for it as for any holder.
 */
export const ABANDONED_ERASURE = 'erase-abandoned';

/**
 * Every job of the customer: pending timers are named by their instance's `timers`, sends (and
 * timers retrying after they were applied) by the job index, and timers a step added before it
 * died are looked up in the queue by their id (see unnamedTimerJobs).
 */
function customerJobs(indexed: readonly CustomerJob[], customer: CustomerState): CustomerJob[] {
  const timers = [...customer.instances.values()].flatMap((record) => Object.values(record.timers));
  const jobs = new Map(indexed.map((job) => [jobIndexMember(job), job]));
  for (const jobId of timers)
    jobs.set(jobIndexMember({ queue: 'journeys', jobId }), { queue: 'journeys', jobId });
  return [...jobs.values()];
}

/**
 * Erases everything stored for one customer: their keys (all in the customer's hash tag, see
 * keysSharingTag) and the jobs that carry their data (see customerJobs). The customer's lease is
 * taken first, so no worker is applying their events meanwhile; a later event starts a new,
 * empty customer.
 */
export async function eraseCustomer(deps: ErasureDependencies, customerId: string): Promise<ErasureResult> {
  const { store } = deps;
  const keys = store.keys(customerId);
  const token = `erase-${randomUUID()}`;
  await store.handOverLease(keys, ABANDONED_ERASURE, token, ERASURE_LEASE_MS);
  let loaded = await store.acquire(keys, token, undefined, ERASURE_LEASE_MS);
  for (let attempt = 0; !loaded && attempt < 20; attempt++) {
    if (!(await takeDeadLease(store, deps.shards, keys, token, ERASURE_LEASE_MS))) await sleep(100);
    loaded = await store.acquire(keys, token, undefined, ERASURE_LEASE_MS);
  }
  if (!loaded) throw new CustomerBusyError(customerId);
  try {
    return await eraseHeld(deps, customerId, loaded);
  } catch (error) {
    await store.handOverLease(keys, token, ABANDONED_ERASURE).catch(() => undefined);
    throw error;
  }
}

/** The erasure proper, under the customer's lease (see eraseCustomer). */
async function eraseHeld(
  deps: ErasureDependencies,
  customerId: string,
  loaded: LoadedCustomer,
): Promise<ErasureResult> {
  const { store } = deps;
  const keys = store.keys(customerId);
  // Every shard a process recorded, also beyond this one's count (see shardCountKey), read now:
  // a read begun before the lease was taken could miss a count raised since.
  const queues = await deps.shards.widen(true);
  const jobs = await listJobs(deps, queues, customerId, loaded);
  // First, so no send of theirs starts from here on: one whose job is running, or is about to be
  // handed to another channel, finds its operation ended (see endErasedOperations).
  const opKeysOf = (of: readonly CustomerJob[]) =>
    of.filter((job) => job.queue === 'deliveries').map((job) => keys.op(job.jobId));
  await endErasedOperations(store.redis, opKeysOf(jobs), deps.clock.now());
  const removal = await removeJobs(deps, queues, jobs);

  // The ended operations of jobs that outlived the erasure stay until they expire, and so do those
  // an earlier erasure left (see earlierLeftovers).
  const found = await keysSharingTag(store.redis, keys.state);
  // Read before the customer's keys go: the journeys of finished instances already deleted.
  const pruned = await store.prunedCounts(customerId);
  const ended = new Set(opKeysOf(jobs));
  const earlier = await earlierLeftovers(
    deps,
    queues,
    keys.op(''),
    found.filter((key) => !ended.has(key)),
  );
  const kept = new Set([...opKeysOf(removal.running), ...earlier.opKeys]);
  // Written before the lease goes with the other keys, so the customer's next event finds it.
  const outlived = removal.running.length > 0 || kept.size > 0 || loaded.customer.seqFloor !== undefined;
  if (outlived && (await keepSeqFloor(store, customerId, loaded.customer, [...jobs, ...earlier.jobs])))
    kept.add(keys.seqFloor);
  // The state goes last, together with the keys written without the lease for a customer who has
  // a state, whether the scan found them or not: a timer that fires meanwhile appends its event to
  // the inbox (and, the lease being held, leaves it for the holder), an event ingested meanwhile
  // also adds itself, traits and all, to the recent events, an open or click of an old email
  // records it, and a click on its unsubscribe link records a refusal, any of which may create a
  // key after the scan passed it or after the keys it found were deleted. Left behind, the inbox
  // would be drained into a state written back under the erased customer's id, the recent events,
  // the engagement and the consent would stay for good, out of sight of the export (which finds no
  // customer). Deleted in the same step as the state, they go with it, and what comes after finds
  // no state: the timer is dropped (see acquireAndLoad), the open, click or unsubscribe not
  // recorded (see recordEngagement's `knownOnly`, ConsentStore.writeIfKnown), an event starts a
  // new customer.
  const last = [
    keys.state,
    keys.inbox,
    keys.events,
    keys.lease,
    keys.tracked,
    keys.trackedOps,
    keys.engagement,
    keys.consent,
    keys.consentLog,
  ];
  const customerKeys = found.filter((key) => !kept.has(key) && !last.includes(key));
  // Before the customer's keys go, under the lease: the state and the tally name the journeys to
  // clean, so an erasure that fails here leaves them for its retry; and no conversion of the
  // customer is logged meanwhile, whereas once the lease is gone one who comes back at once
  // (a new customer under the same id) could convert and have that conversion removed too.
  await eraseConversions(store.redis, store.prefix, customerId, journeysOf(loaded.customer, pruned));
  // The SMS short links, each in a slot of its own, carry the customer's id in their claim: the
  // index among the customer's keys names them. A send still running may store one after this
  // (as its ended operation outlives the erasure); its click records nothing, and it expires.
  const shortLinks = await eraseShortLinks(store.redis, store.prefix, keys.shortLinks);
  // Keys of one hash tag sit in one slot, so one DEL is valid on a Redis Cluster too.
  for (let i = 0; i < customerKeys.length; i += 500)
    await store.redis.unlink(...customerKeys.slice(i, i + 500));
  const counts = new StatsWrites();
  queueCountDeltas(counts, store.prefix, removalDeltas(loaded.customer.instances.values()));
  // What the customer still counts for, which a recount could not find among the customers left.
  queueErasedCounts(counts, store.prefix, erasedResidue(loaded.customer.instances.values(), pruned));
  // The number goes from the phone index with the profile that held it.
  queuePhoneIndexChange(counts, store.prefix, customerId, loaded.customer.profile, {});
  const lastDeleted = await deleteLast(store.redis, last, counts);
  // Last, after the removals above, each of which logged an event naming the job it removed.
  await eraseQueueEvents(store.redis, allQueues(queues), customerId);
  // A send still running may write its file after this: it deletes it then (see eraseSend).
  let outboxFiles = 0;
  for (const adapter of deps.adapters ?? []) outboxFiles += (await adapter.eraseCustomer?.(customerId)) ?? 0;
  // Not counted: the lease the erasure took, and the state it marked when the customer had none.
  const madeByErasure = 1 + (loaded.stateFound ? 0 : 1);
  return {
    keys: Math.max(0, customerKeys.length + shortLinks + lastDeleted - madeByErasure),
    jobsRemoved: removal.removed + earlier.removal.removed,
    jobsRunning: removal.running.length + earlier.removal.running.length,
    outboxFiles,
  };
}

/**
 * Deletes `last` and applies `counts`: in one script on a single Redis (see deleteCounted); on a
 * Redis Cluster, where the counts live in other slots, right after, so an erasure that dies in
 * between leaves the counts to `recountJourneys`, as a step does. Returns how many keys went.
 */
async function deleteLast(
  redis: RedisConnection,
  last: readonly string[],
  counts: StatsWrites,
): Promise<number> {
  if (!ridesInScripts(redis)) {
    const deleted = await redis.unlink(...last);
    await counts.issue(redis);
    return deleted;
  }
  const { keys, args } = counts.scriptArgs();
  const [deleted, statsError] = (await deleteCounted.run(
    redis,
    [...last, ...keys],
    [last.length, ...args],
  )) as [number, string];
  if (statsError) throw new Error(`the erased customer's journey counts were not all updated: ${statsError}`);
  return deleted;
}

/** Every queue of every shard: the journey queue's and each channel's delivery queue. */
function allQueues(queues: Queues) {
  return queues.shards.flatMap((shard) => [shard.journeys, ...Object.values(shard.deliveries)]);
}

/** Every journey the customer was in: their instances', and those of the finished ones deleted. */
function journeysOf(customer: CustomerState, pruned: Readonly<Record<string, number>>): string[] {
  const instances = [...customer.instances.values()].map((record) => record.journeyId);
  return [...instances, ...tallyDeltas(pruned).keys()];
}

/**
 * Ids of timer and send jobs are made from instance ids (`<journey>.<seq>`), and the jobs that
 * outlived the erasure keep theirs: BullMQ keeps a finished job's id for a day or a week, the ended
 * operations for 30 days. A customer who comes back with the same id would number their entries
 * from 1 again and meet them: a send found "already skipped", a timer add BullMQ ignores as a
 * duplicate, an old timer applied to the new instance. So their entries number on from the erased
 * ones' highest until those ids have gone. The floor's value is a number only; its name, like the
 * ended operations', carries the customer's id until it expires.
 */
async function keepSeqFloor(
  store: CustomerStore,
  customerId: string,
  customer: CustomerState,
  jobs: readonly CustomerJob[],
): Promise<boolean> {
  let floor = customer.seqFloor ?? 0;
  for (const record of customer.instances.values()) floor = Math.max(floor, record.seq);
  // A step that died before its commit added jobs of an instance the customer does not hold yet.
  for (const job of jobs) {
    const named = parseStepJobId(job.jobId);
    if (named) floor = Math.max(floor, seqOfInstanceId(named.instanceId));
  }
  if (floor === 0) return false;
  await store.redis.set(store.keys(customerId).seqFloor, floor, 'PX', ERASED_TTL_MS);
  return true;
}

/**
 * What an earlier erasure of the customer left among their keys `found`: the ended operations of
 * jobs that outlived it (see endErasedOperations), named in no index any more, and those jobs,
 * removed now if they are still in the queues with the customer's data (a finished one stays a
 * day, a failed one a week).
 */
async function earlierLeftovers(
  deps: ErasureDependencies,
  queues: Queues,
  /** What every op key of the customer starts with. */
  opKeyPrefix: string,
  found: readonly string[],
): Promise<{ opKeys: string[]; jobs: CustomerJob[]; removal: Awaited<ReturnType<typeof removeJobs>> }> {
  const redis = deps.store.redis;
  const opKeys = found.filter((key) => key.startsWith(opKeyPrefix));
  const erased = await Promise.all(opKeys.map((key) => erasedOperation(redis, key)));
  const left = opKeys.filter((_, i) => erased[i]);
  const jobs = left.map((key): CustomerJob => ({
    queue: 'deliveries',
    jobId: key.slice(opKeyPrefix.length),
  }));
  return { opKeys: left, jobs, removal: await removeJobs(deps, queues, jobs) };
}

/** The customer's jobs (see customerJobs), with the timers of a step that died before its commit. */
async function listJobs(
  deps: ErasureDependencies,
  queues: Queues,
  customerId: string,
  loaded: LoadedCustomer,
): Promise<CustomerJob[]> {
  const indexed = await deps.jobIndex.list(customerId);
  if (loaded.interruptedStep !== undefined) {
    const wheels = deps.timerWheel ? timerWheelKeys(queues) : [];
    const unnamed = await unnamedTimerJobs(deps.store.redis, journeyQueues(queues), wheels, customerId);
    indexed.push(...unnamed.map((jobId): CustomerJob => ({ queue: 'journeys', jobId })));
  }
  return customerJobs(indexed, loaded.customer);
}

/**
 * Removes `jobs` from every shard's queues and the timers from every wheel. A job a worker is
 * running cannot be removed: it is tried again for two seconds, then counted as running, and a
 * send among them keeps only what names its operation (see erasedDeliveryData).
 */
async function removeJobs(
  deps: ErasureDependencies,
  queues: Queues,
  jobs: readonly CustomerJob[],
): Promise<{ removed: number; running: CustomerJob[] }> {
  const timerQueues = journeyQueues(queues);
  const wheels = deps.timerWheel ? timerWheelKeys(queues) : [];
  const timers = jobs.filter((job) => job.queue === 'journeys').map((job) => job.jobId);
  let removed = (await deps.timerWheel?.remove(timers, wheels)) ?? 0;
  const sendQueues = queues.shards.flatMap((shard) => Object.values(shard.deliveries));
  let running = [...jobs];
  for (let attempt = 0; running.length > 0 && attempt < 10; attempt++) {
    if (attempt > 0) await sleep(200);
    const stillRunning: CustomerJob[] = [];
    for (const job of running) {
      const candidates = job.queue === 'journeys' ? timerQueues : sendQueues;
      const found = await Promise.all(candidates.map((queue) => queue.getJob(job.jobId)));
      for (const [i, queue] of candidates.entries()) {
        if (!found[i]) continue;
        // remove answers 0 for a job a worker holds the lock of.
        if ((await queue.remove(job.jobId)) === 1) removed += 1;
        else stillRunning.push(job);
      }
    }
    running = stillRunning;
  }
  // A send that outlives the erasure is kept, once it ends, a day as completed or a week as
  // failed: with its operation id only, not with what the customer's event said.
  for (const job of running.filter((one) => one.queue === 'deliveries')) {
    for (const queue of sendQueues) {
      const held = await queue.getJob(job.jobId);
      // Gone meanwhile (removed as completed) is as good.
      if (held)
        await held.updateData(erasedDeliveryData(held.data as DeliveryJobData)).catch(() => undefined);
    }
  }
  // Nor with its earlier attempts' errors, whose text and stack may quote the customer's address
  // or traits (a provider's answer, a step's error). A failure of the run under way would write
  // them back (BullMQ appends its stack to those its worker read when it took the job): a send's
  // worker ends a run of an erased operation without failing (see createDeliveryWorker); a timer
  // or drain job finds the customer held, or gone, and ends without failing too.
  for (const job of running) {
    const candidates = job.queue === 'journeys' ? timerQueues : sendQueues;
    for (const queue of candidates)
      await deps.store.redis.hdel(queue.toKey(job.jobId), 'failedReason', 'stacktrace');
  }
  return { removed, running };
}
