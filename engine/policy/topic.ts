import type { DeliveryJobData } from '../delivery/delivery-job.js';

/** Why a message is sent: marketing may be capped and held back; transactional is expected. */
export type Topic = 'marketing' | 'transactional';

/**
 * The topic of a send. Jobs that name none (every job before messages carried topics) are
 * marketing, the cautious reading: they are then capped and kept out of quiet hours.
 */
export function topicOf(job: DeliveryJobData): Topic {
  return (job as { topic?: unknown }).topic === 'transactional' ? 'transactional' : 'marketing';
}
