import type { Queue } from 'bullmq';
import type { RedisConnection } from '../redis/connection.js';
import type { Logger } from '../logger.js';
import { scanEach } from '../redis/scan-keys.js';
import { customerToken, encodeIdPart } from './ids.js';

/**
 * Finds customers whose inbox has events but no drainer, and adds a drain job for each.
 *
 * In normal running this finds nothing. It covers the rare gaps the hot path cannot close
 * atomically, because the inbox and the queue live in different Cluster slots: a producer that
 * died between appending an event and adding its drain job, or a drain job that failed for good
 * after its retries while other events waited behind its lease.
 */
export async function sweepStrandedInboxes(options: {
  redis: RedisConnection;
  prefix: string;
  queue: Queue;
  logger: Logger;
  round: string;
}): Promise<number> {
  const { redis, prefix, queue, logger } = options;
  const pattern = `${prefix}:c:*:inbox`;
  let rescued = 0;
  // On a Cluster the inboxes are spread over every master, and each is scanned.
  await scanEach(redis, pattern, async (keys) => {
    for (const inboxKey of keys) {
      const token = /:c:\{([^}]*)\}:inbox$/.exec(inboxKey)?.[1];
      if (token === undefined) continue;
      const leaseKey = inboxKey.replace(/:inbox$/, ':lease');
      const [leased, length] = await Promise.all([redis.exists(leaseKey), redis.llen(inboxKey)]);
      if (leased === 1 || length === 0) continue;
      const customerId = decodeURIComponent(token);
      if (customerToken(customerId) !== token) continue;
      await queue.add('drain', { customerId }, { jobId: `r-${token}-${encodeIdPart(options.round)}` });
      rescued++;
    }
  });
  if (rescued > 0) logger.warn({ rescued }, 'drain jobs added for inboxes that had none');
  return rescued;
}
