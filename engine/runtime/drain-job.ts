import { UnrecoverableError, type Job } from 'bullmq';
import { refuseNewer } from './newer-version.js';
import type { Queues } from './queues.js';

/** A drain job: it names a customer whose inbox holds events no job is draining yet. */
export const DRAIN_JOB = 'drain';

/** The version of the drain jobs this code writes, and the newest it reads. */
export const DRAIN_JOB_VERSION = 1 as const;

/** `v` is missing on drain jobs made before drain jobs had versions; they read the same. */
export interface DrainJobData {
  v?: number;
  customerId: string;
}

export function drainJobData(customerId: string): DrainJobData {
  return { v: DRAIN_JOB_VERSION, customerId };
}

/** Adds a drain job for `customerId` to their shard's journey queue; an id that exists makes it a no-op. */
export async function addDrainJob(queues: Queues, customerId: string, jobId: string): Promise<void> {
  await queues.forCustomer(customerId).journeys.add(DRAIN_JOB, drainJobData(customerId), { jobId });
}

/**
 * The customer a drain job names. One of a newer version is refused (NewerVersionError: the
 * worker puts it back for a newer worker), and one naming no customer can never run.
 */
export function drainedCustomer(job: Job<DrainJobData>): string {
  refuseNewer(`Drain job ${job.id}`, job.data, DRAIN_JOB_VERSION);
  const customerId: unknown = job.data?.customerId;
  if (typeof customerId !== 'string' || customerId === '')
    throw new UnrecoverableError(`drain job ${job.id} names no customer`);
  return customerId;
}
