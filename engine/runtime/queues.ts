import { Queue, type ConnectionOptions, type DefaultJobOptions } from 'bullmq';
import { deliveryQueueName } from '../delivery/delivery-job.js';
import { CHANNELS, type Channel } from '../journey/journey-schema.js';

export const JOURNEY_QUEUE = 'journeys';

/**
 * BullMQ's prefix carries a hash tag, so every key of a queue lands in one Redis Cluster slot,
 * as BullMQ requires; on a single Redis it is just a name.
 */
export function queuePrefix(prefix: string): string {
  return `{${prefix}}`;
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

export function createQueues(connection: ConnectionOptions, prefix: string) {
  const options = (defaultJobOptions: DefaultJobOptions) => ({
    connection,
    prefix: queuePrefix(prefix),
    defaultJobOptions,
  });
  return {
    journeys: new Queue(JOURNEY_QUEUE, options(journeyJobDefaults)),
    deliveries: Object.fromEntries(
      CHANNELS.map((channel) => [
        channel,
        new Queue(deliveryQueueName(channel), options(deliveryJobDefaults)),
      ]),
    ) as Record<Channel, Queue>,
  };
}

export type Queues = ReturnType<typeof createQueues>;

/** Every queue the engine uses, for closing them and for dashboards. */
export function allQueues(queues: Queues): Queue[] {
  return [queues.journeys, ...Object.values(queues.deliveries)];
}
