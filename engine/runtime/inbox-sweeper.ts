import { addDrainJob } from './drain-job.js';
import type { RedisConnection } from '../redis/connection.js';
import type { Logger } from '../logger.js';
import { z } from 'zod';
import { scanUntil, type ScanPosition } from '../redis/scan-keys.js';
import { customerOfToken, drainJobId, encodeIdPart } from './ids.js';
import type { Queues } from './queues.js';

/** Where the scan for stranded inboxes stopped, so the next sweep goes on from there. */
export function inboxScanKey(prefix: string): string {
  return `${prefix}:sweep:inbox-scan`;
}

/**
 * Finds customers whose inbox has events but no drainer, and adds a drain job for each. An inbox
 * whose first event's own job is still to run is left to it (see headJobWaits).
 *
 * In normal running this finds nothing. It covers the rare gaps the hot path cannot close
 * atomically, because the inbox and the queue live in different Cluster slots: a producer that
 * died between appending an event and adding its drain job, an add given up after its retry
 * (`chorus_drain_adds_given_up_total`), or a drain job that failed for good after its retries
 * while other events waited behind its lease.
 *
 * Finding them means scanning the whole keyspace, which grows with the customers: about two
 * seconds per three million keys. So each sweep scans for at most `budgetMs` and leaves the
 * rest to the next one, where it stopped. Sweeps stay short: BullMQ schedules the next sweep when
 * one starts, so on a keyspace that took longer to scan than the interval, whole scans would run
 * side by side, and more of them the larger it grew. A stranded inbox is found within a pass.
 */
export async function sweepStrandedInboxes(options: {
  redis: RedisConnection;
  prefix: string;
  /** Each drain job goes to the journey queue of its customer's shard. */
  queues: Queues;
  logger: Logger;
  round: string;
  budgetMs: number;
}): Promise<{ rescued: number; passComplete: boolean }> {
  const { redis, prefix, queues, logger } = options;
  const pattern = `${prefix}:c:*:inbox`;
  // The glob also matches other keys of a customer whose name ends in `:inbox`: a client's
  // messageId is part of its seen-marker's name (`<prefix>:c:{ada}:seen:x:c:{bo}:inbox`). Only
  // a key that is exactly an inbox's name is one: anything else (a string) would fail LLEN and
  // stop every sweep at the same key until it expired.
  const inboxKeyShape = new RegExp(`^${escapeRegExp(prefix)}:c:\\{([A-Za-z0-9%]*)\\}:inbox$`);
  const positionKey = inboxScanKey(prefix);
  let rescued = 0;
  const saved = await redis.get(positionKey);
  const from = saved === null ? {} : parsePosition(saved);
  // On a Cluster the inboxes are spread over every master, and each is scanned.
  const scan = await scanUntil(
    redis,
    pattern,
    { from, deadline: Date.now() + options.budgetMs },
    async (keys) => {
      for (const inboxKey of keys) {
        const token = inboxKeyShape.exec(inboxKey)?.[1];
        const customerId = token === undefined ? undefined : customerOfToken(token);
        if (customerId === undefined) continue;
        const leaseKey = inboxKey.replace(/:inbox$/, ':lease');
        const [leased, head] = await Promise.all([redis.exists(leaseKey), redis.lindex(inboxKey, 0)]);
        if (leased === 1 || head === null) continue;
        if (await headJobWaits(redis, queues, customerId, head)) continue;
        await addDrainJob(queues, customerId, `r-${token}-${encodeIdPart(options.round)}`);
        rescued++;
      }
    },
  );
  await redis.set(positionKey, JSON.stringify(scan.position));
  if (rescued > 0) logger.warn({ rescued }, 'drain jobs added for inboxes that had none');
  return { rescued, passComplete: scan.complete };
}

/**
 * Whether the job that carries the inbox's first event is still to run, on its first attempt: the
 * drain job its ingest added, or the timer job that appended it, waiting or active. That job
 * drains the inbox, which is then only waiting its turn: behind a backlog every inbox would look
 * stranded, and each sweep would add a job for every customer waiting, while the workers are
 * already behind. A job that ended (completed, or failed for good: `finishedOn`), was never added,
 * sits in another shard's queue (QUEUE_SHARDS changed) or has failed before and waits out its
 * backoff (`atm`, attempts made) leaves the inbox to rescue, as it always did.
 */
async function headJobWaits(
  redis: RedisConnection,
  queues: Queues,
  customerId: string,
  head: string,
): Promise<boolean> {
  const event = InboxHead.safeParse(parseJson(head));
  if (!event.success) return false;
  const jobId = event.data.kind === 'timer' ? event.data.id : drainJobId(customerId, event.data.id);
  const job = queues.forCustomer(customerId).journeys.toKey(jobId);
  const [name, finishedOn, attemptsMade] = await redis.hmget(job, 'name', 'finishedOn', 'atm');
  return name !== null && finishedOn === null && (attemptsMade ?? '0') === '0';
}

/** What the sweep reads of an inbox entry: its kind and id name the job that carries it. */
const InboxHead = z.object({ kind: z.string(), id: z.string() });

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** A saved position, or a new pass if it cannot be read (written by another version, say). */
function parsePosition(saved: string): ScanPosition {
  try {
    return ScanPositionSchema.parse(JSON.parse(saved));
  } catch {
    return {};
  }
}

const ScanPositionSchema = z.record(z.string(), z.string());
