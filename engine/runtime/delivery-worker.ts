import { Worker, type ConnectionOptions, type Job } from 'bullmq';
import type { Logger } from '../logger.js';
import type { CustomerStore } from '../store/customer-store.js';
import { recordOnce } from '../store/scripts.js';
import type { DeliveryJobData } from './command-executor.js';
import { DELIVERY_QUEUE, queuePrefix } from './queues.js';

export interface DeliveryWorkerOptions {
  connection: ConnectionOptions;
  prefix: string;
  concurrency?: number;
  logger: Logger;
  /** Days an operation id is remembered, so a re-added delivery is not recorded twice. */
  ledgerDays?: number;
}

/**
 * Records each send once per operation id in the customer's message list. Until channel
 * adapters deliver for real, this is the delivery stage: what a journey sent, where and when.
 */
export function createDeliveryWorker(store: CustomerStore, options: DeliveryWorkerOptions): Worker {
  const ledgerSeconds = (options.ledgerDays ?? 7) * 86_400;
  const worker = new Worker(
    DELIVERY_QUEUE,
    async (job: Job<DeliveryJobData>) => {
      const send = job.data;
      const keys = store.keys(send.customerId);
      const entry = { ...send, channel: send.channels[0], status: 'recorded', recordedAt: Date.now() };
      const recorded =
        (await recordOnce.run(
          store.redis,
          [keys.op(send.opId), keys.messages],
          [ledgerSeconds, JSON.stringify(entry), 100],
        )) === 1;
      if (recorded) {
        options.logger.info(
          {
            customerId: send.customerId,
            journey: send.journeyId,
            message: send.message,
            channel: entry.channel,
            opId: send.opId,
          },
          'message recorded',
        );
      }
      return recorded ? 'recorded' : 'duplicate';
    },
    {
      connection: options.connection,
      prefix: queuePrefix(options.prefix),
      concurrency: options.concurrency ?? 20,
    },
  );
  worker.on('error', (err) => options.logger.error({ err }, 'delivery worker error'));
  return worker;
}
