import { conversionsIn, queueConversions } from '../store/conversion-log.js';
import { queueDailyDeltas } from '../store/daily-journey-counts.js';
import { countDeltas, queueCountDeltas } from '../store/journey-counts.js';
import { StatsWrites } from '../store/stats-writes.js';
import type { Note } from './command.js';
import type { InstanceRecord } from './instance-record.js';

/**
 * What one batch changes in the journeys' statistics: live counts, per-day counts and the
 * conversion log. Empty when nothing moved (most steps move within one state and stage: a wait
 * that loops, an event handled in place). The commit applies them in its own atomic step on a
 * single Redis, or has them issued right after it on a Redis Cluster (see stats-writes.ts).
 */
export function journeyStatsWrites(input: {
  prefix: string;
  customerId: string;
  before: ReadonlyMap<string, InstanceRecord>;
  /** Every instance the batch changed, as it left them: those it pruned (deleted) too. */
  changed: readonly InstanceRecord[];
  /** The per-day counts, added up event by event (see dailyDeltas). */
  daily: ReadonlyMap<string, ReadonlyMap<string, number>>;
  notes: readonly Note[];
  now: number;
}): StatsWrites {
  const writes = new StatsWrites();
  if (input.changed.length === 0) return writes;
  queueCountDeltas(writes, input.prefix, countDeltas(input.before, input.changed));
  queueDailyDeltas(writes, input.prefix, input.daily);
  queueConversions(
    writes,
    input.prefix,
    conversionsIn(input.customerId, input.notes, input.changed),
    input.now,
  );
  return writes;
}
