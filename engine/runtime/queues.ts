import { Queue, type ConnectionOptions, type DefaultJobOptions } from 'bullmq';

export const JOURNEY_QUEUE = 'journeys';
export const DELIVERY_QUEUE = 'deliveries';

/**
 * BullMQ's prefix carries a hash tag, so every key of a queue lands in one Redis Cluster slot,
 * as BullMQ requires; on a single Redis it is just a name.
 */
export function queuePrefix(prefix: string): string {
  return `{${prefix}}`;
}

const journeyJobDefaults: DefaultJobOptions = {
  // Infrastructure failures (Redis away, a lost lease) retry; bad events never fail a job.
  attempts: 20,
  backoff: { type: 'exponential', delay: 500 },
  removeOnComplete: true,
  removeOnFail: { age: 7 * 86_400 },
};

const deliveryJobDefaults: DefaultJobOptions = {
  attempts: 10,
  backoff: { type: 'exponential', delay: 1_000 },
  removeOnComplete: { age: 86_400, count: 10_000 },
  removeOnFail: { age: 7 * 86_400 },
};

export function createQueues(connection: ConnectionOptions, prefix: string) {
  return {
    journeys: new Queue(JOURNEY_QUEUE, {
      connection,
      prefix: queuePrefix(prefix),
      defaultJobOptions: journeyJobDefaults,
    }),
    deliveries: new Queue(DELIVERY_QUEUE, {
      connection,
      prefix: queuePrefix(prefix),
      defaultJobOptions: deliveryJobDefaults,
    }),
  };
}

export type Queues = ReturnType<typeof createQueues>;
