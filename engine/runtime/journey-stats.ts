import type { RedisConnection } from '../redis/connection.js';
import { CommandBatch } from '../store/command-batch.js';
import { conversionsIn, queueConversions } from '../store/conversion-log.js';
import { dailyDeltas, queueDailyDeltas } from '../store/daily-journey-counts.js';
import { countDeltas, queueCountDeltas } from '../store/journey-counts.js';
import type { Note } from './command.js';
import type { InstanceRecord } from './instance-record.js';

/**
 * What one committed batch changes in the journeys' statistics: live counts, per-day counts and
 * the conversion log, issued together (one round trip; each to its own slot's node on a Redis
 * Cluster; nothing when nothing changed). They live outside the customer's hash tag, so they
 * cannot be part of the commit itself: a process that dies in between misses this batch's share (`recountJourneys` rebuilds the live counts).
 */
export async function recordJourneyStats(input: {
  redis: RedisConnection;
  prefix: string;
  customerId: string;
  before: ReadonlyMap<string, InstanceRecord>;
  after: ReadonlyMap<string, InstanceRecord>;
  changed: readonly InstanceRecord[];
  notes: readonly Note[];
  now: number;
}): Promise<void> {
  if (input.changed.length === 0) return;
  const batch = new CommandBatch(input.redis);
  queueCountDeltas(batch, input.prefix, countDeltas(input.before, input.changed));
  queueDailyDeltas(batch, input.prefix, dailyDeltas(input.before, input.changed, input.now));
  queueConversions(batch, input.prefix, conversionsIn(input.customerId, input.notes, input.after));
  // Most steps move within one state and stage (a wait that loops, an event handled in place).
  if (batch.length > 0) await batch.done();
}
