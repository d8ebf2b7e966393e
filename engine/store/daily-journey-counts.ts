import type { RedisConnection } from '../redis/connection.js';
import type { StatsWriter } from './stats-writes.js';
import type { InstanceRecord } from '../runtime/instance-record.js';

const DAY_MS = 86_400_000;
// Long enough for a year-on-year report; the hashes hold counts only, no personal data.
const TTL_SECONDS = 400 * 86_400;

/** The most days {@link readDailyJourneyCounts} reads at once: as many as the hashes are kept. */
export const MAX_DAYS_PER_READ = 400;

/** One hash per journey per UTC day: `<version>|<kind>|<name>` → count. */
export function dailyJourneyCountsKey(prefix: string, journeyId: string, day: string): string {
  return `${prefix}:stats:day-journey:${journeyId}:${day}`;
}

const utcDay = (at: number) => new Date(at).toISOString().slice(0, 10);

/**
 * What one applied event adds to the day's counts: entries into the journey, into each state and
 * stage (every transition that lands there), conversions (also by the day the instance entered)
 * and exits. Keyed by journey and day.
 * A batch of events adds each event's to the same `deltas`: compared once, from before the batch
 * to after it, a state one event led to and the next left would go uncounted, and the counts
 * would depend on how many events a worker happened to apply at once.
 */
export function dailyDeltas(
  before: ReadonlyMap<string, InstanceRecord>,
  after: Iterable<InstanceRecord>,
  now: number,
  deltas = new Map<string, Map<string, number>>(),
): Map<string, Map<string, number>> {
  const day = utcDay(now);
  const bump = (record: InstanceRecord, kind: string, name: string) => {
    const key = `${record.journeyId}\u0000${day}`;
    const fields = deltas.get(key) ?? new Map<string, number>();
    deltas.set(key, fields);
    const field = `${record.journeyVersion}|${kind}|${name}`;
    fields.set(field, (fields.get(field) ?? 0) + 1);
  };
  for (const next of after) {
    const previous = before.get(next.id);
    if (!previous) bump(next, 'entered', 'all');
    if (!previous || previous.state !== next.state) bump(next, 'state', next.state);
    if (!previous || previous.stage !== next.stage) bump(next, 'stage', next.stage);
    if (next.convertedAt !== undefined && previous?.convertedAt === undefined) {
      bump(next, 'converted', 'all');
      bump(next, 'converted-entered', utcDay(next.enteredAt));
    }
    if (next.status !== 'active' && previous?.status !== next.status)
      bump(next, 'exit', next.exitReason ?? next.status);
  }
  return deltas;
}

/** Adds the deltas to `batch`, so one commit's statistics go to Redis in one round trip. */
export function queueDailyDeltas(
  batch: StatsWriter,
  prefix: string,
  deltas: ReadonlyMap<string, ReadonlyMap<string, number>>,
): void {
  for (const [key, fields] of deltas) {
    const [journeyId = '', day = ''] = key.split('\u0000');
    const hash = dailyJourneyCountsKey(prefix, journeyId, day);
    batch.hincrbyAll(hash, fields, TTL_SECONDS);
  }
}

export interface DailyJourneyCounts {
  day: string;
  entered: number;
  converted: number;
  /**
   * The same conversions by the UTC day their instances entered; those counted before the
   * engine kept it are in `converted` only.
   */
  convertedByEntryDay: Record<string, number>;
  /** Transitions into each state / stage that day, all versions. */
  states: Record<string, number>;
  stages: Record<string, number>;
  exits: Record<string, number>;
  /** The same per version. */
  versions: Record<
    string,
    { entered: number; converted: number; states: Record<string, number>; stages: Record<string, number> }
  >;
}

/** The days from `from` to `to` (epoch ms, both included, at most {@link MAX_DAYS_PER_READ}). */
export async function readDailyJourneyCounts(
  redis: RedisConnection,
  prefix: string,
  journeyId: string,
  from: number,
  to: number,
): Promise<DailyJourneyCounts[]> {
  const days: string[] = [];
  for (let at = Math.floor(from / DAY_MS) * DAY_MS; at <= to && days.length < MAX_DAYS_PER_READ; at += DAY_MS)
    days.push(utcDay(at));
  // One key per day, each in its own Cluster slot: read them side by side rather than pipelined.
  const hashes = await Promise.all(
    days.map((day) => redis.hgetall(dailyJourneyCountsKey(prefix, journeyId, day))),
  );
  return days.map((day, index) => {
    const hash = hashes[index] ?? {};
    const counts: DailyJourneyCounts = {
      day,
      entered: 0,
      converted: 0,
      convertedByEntryDay: {},
      states: {},
      stages: {},
      exits: {},
      versions: {},
    };
    for (const [field, value] of Object.entries(hash)) {
      const [version = '', kind, ...rest] = field.split('|');
      const name = rest.join('|');
      const n = Number(value);
      const v = (counts.versions[version] ??= { entered: 0, converted: 0, states: {}, stages: {} });
      const add = (into: Record<string, number>) => (into[name] = (into[name] ?? 0) + n);
      if (kind === 'entered') {
        counts.entered += n;
        v.entered += n;
      } else if (kind === 'converted') {
        counts.converted += n;
        v.converted += n;
      } else if (kind === 'state') {
        add(counts.states);
        add(v.states);
      } else if (kind === 'stage') {
        add(counts.stages);
        add(v.stages);
      } else if (kind === 'exit') add(counts.exits);
      else if (kind === 'converted-entered') add(counts.convertedByEntryDay);
    }
    return counts;
  });
}
