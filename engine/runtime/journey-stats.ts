import type { Redis } from 'ioredis';
import { conversionsIn, queueConversions } from '../store/conversion-log.js';
import { dailyDeltas, queueDailyDeltas } from '../store/daily-journey-counts.js';
import { countDeltas, queueCountDeltas } from '../store/journey-counts.js';
import type { Note } from './command.js';
import type { InstanceRecord } from './instance-record.js';

/**
 * What one committed batch changes in the journeys' statistics: live counts, per-day counts and
 * the conversion log, sent in one pipeline (one round trip, nothing when nothing changed). They
 * live outside the customer's hash tag, so they cannot be part of the commit itself: a process
 * that dies in between misses this batch's share (`recountJourneys` rebuilds the live counts).
 */
export async function recordJourneyStats(input: {
  redis: Redis;
  prefix: string;
  customerId: string;
  before: ReadonlyMap<string, InstanceRecord>;
  after: ReadonlyMap<string, InstanceRecord>;
  changed: readonly InstanceRecord[];
  notes: readonly Note[];
  now: number;
}): Promise<void> {
  if (input.changed.length === 0) return;
  const pipeline = input.redis.pipeline();
  queueCountDeltas(pipeline, input.prefix, countDeltas(input.before, input.changed));
  queueDailyDeltas(pipeline, input.prefix, dailyDeltas(input.before, input.changed, input.now));
  queueConversions(pipeline, input.prefix, conversionsIn(input.customerId, input.notes, input.after));
  const replies = (await pipeline.exec()) ?? [];
  const failed = replies.find(([error]) => error !== null);
  if (failed) throw failed[0];
}
