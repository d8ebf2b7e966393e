import type { RedisConnection } from '../redis/connection.js';
import { ChorusError } from '../errors.js';
import type { Channel } from '../journey/journey-schema.js';
import type { StatsWriter } from '../store/stats-writes.js';

/**
 * What the per-day counters count. Delivery outcomes (`sent`, `failed`, `skipped`, `unknown`) as
 * the delivery worker records them; of the `sent`, those whose opens or clicks cannot be seen
 * (`opens-untracked`: an email without the open pixel; `clicks-untracked`: a send without a
 * tracked link); provider reports (`delivered`, `bounced`, `complained`) and `opened` and
 * `clicked` once per send; `clicks` every click.
 */
export type DailyMetric =
  | 'sent'
  | 'failed'
  | 'skipped'
  | 'unknown'
  | 'opens-untracked'
  | 'clicks-untracked'
  | 'delivered'
  | 'bounced'
  | 'complained'
  | 'opened'
  | 'clicked'
  | 'clicks';

/** One row of the counters: a message on a channel in a variant, on one UTC day. */
export interface DailyCount {
  /** `YYYY-MM-DD`, UTC. */
  day: string;
  message: string;
  channel: string;
  variant: string;
  counts: Partial<Record<DailyMetric, number>>;
}

/** Where a count goes: the journey, and the message, channel and variant of the send. */
export interface CountedSend {
  journeyId: string;
  message: string;
  channel: Channel;
  variant: string;
}

export class InvalidDayRangeError extends ChorusError {
  constructor(detail: string) {
    super(
      'CHORUS_DAY_RANGE_INVALID',
      `Cannot read daily counts: ${detail}. To fix: give from and to as YYYY-MM-DD (or epoch ms), from not after to, at most ${MAX_DAYS} days apart.`,
    );
  }
}

const MAX_DAYS = 366;
const DAY_MS = 86_400_000;

export function utcDay(at: number): string {
  return new Date(at).toISOString().slice(0, 10);
}

/**
 * One hash per journey per UTC day, fields `<message>|<channel>|<variant>|<metric>`: a day's
 * report is one HGETALL, and a journey's keys sort by day. Kept, like journey counts, until
 * deleted: they are small and the report reads them back over months.
 */
export function dailyCountsKey(prefix: string, journeyId: string, day: string): string {
  return `${prefix}:stats:day:${journeyId}:${day}`;
}

/**
 * Adds one to a metric of a send on the day of `at`. Callers count only what they themselves
 * recorded first (an outcome, a first open), so a replay does not count twice; a crash in
 * between misses one.
 */
export async function countDaily(
  redis: RedisConnection,
  prefix: string,
  send: CountedSend,
  metric: DailyMetric,
  at: number,
): Promise<void> {
  await redis.hincrby(dailyCountsKey(prefix, send.journeyId, utcDay(at)), dailyCountField(send, metric), 1);
}

/**
 * Adds each of `changes` (a metric and how much, `-1` included) to a send's counters on the day
 * of `at`, in one transaction: one round trip to the day's hash, and the changes never part.
 * What one engagement counts goes through here, e.g. a send recorded `unknown` that the provider
 * has since shown went (a delivery report, an open, a click) moves from `unknown` to `sent` with
 * the first that is counted of it: left `unknown`, what followed it was counted against sends it
 * was not among, and a channel's delivery rate passed 100%.
 */
export async function countDailyChanges(
  redis: RedisConnection,
  prefix: string,
  send: CountedSend,
  changes: ReadonlyMap<DailyMetric, number>,
  at: number,
): Promise<void> {
  if (changes.size === 0) return;
  const key = dailyCountsKey(prefix, send.journeyId, utcDay(at));
  const writes = redis.multi();
  for (const [metric, by] of changes) writes.hincrby(key, dailyCountField(send, metric), by);
  await writes.exec();
}

/**
 * Queues {@link countDaily}'s increment of each of `metrics`, to be written with what it counts:
 * one write to the day's hash, whatever their number.
 */
export function queueDailyCount(
  writer: StatsWriter,
  prefix: string,
  send: CountedSend,
  metrics: DailyMetric | readonly DailyMetric[],
  at: number,
): void {
  const each = typeof metrics === 'string' ? [metrics] : metrics;
  writer.hincrbyAll(
    dailyCountsKey(prefix, send.journeyId, utcDay(at)),
    new Map(each.map((metric) => [dailyCountField(send, metric), 1])),
  );
}

function dailyCountField(send: CountedSend, metric: DailyMetric): string {
  return `${send.message}|${send.channel}|${send.variant}|${metric}`;
}

function dayOf(value: string | number, which: string): number {
  const ms = typeof value === 'number' ? value : /^\d{4}-\d{2}-\d{2}$/.test(value) ? Date.parse(value) : NaN;
  if (!Number.isFinite(ms)) throw new InvalidDayRangeError(`${which} ${JSON.stringify(value)} is not a day`);
  return Date.parse(utcDay(ms));
}

/**
 * The counters of a journey from `from` to `to` (inclusive UTC days), one row per day, message,
 * channel and variant that counted anything.
 *
 * @example
 * const rows = await readDailyCounts(redis, 'chorus', { journeyId: 'onboarding', from: '2026-11-01', to: '2026-11-30' });
 * // [{ day: '2026-11-02', message: 'welcome', channel: 'email', variant: 'control', counts: { sent: 40, opened: 22, clicked: 9, clicks: 12 } }, …]
 */
export async function readDailyCounts(
  redis: RedisConnection,
  prefix: string,
  range: { journeyId: string; from: string | number; to: string | number },
): Promise<DailyCount[]> {
  const from = dayOf(range.from, 'from');
  const to = dayOf(range.to, 'to');
  if (from > to) throw new InvalidDayRangeError(`from ${utcDay(from)} is after to ${utcDay(to)}`);
  if ((to - from) / DAY_MS >= MAX_DAYS) throw new InvalidDayRangeError('the range is too long');
  const days: string[] = [];
  for (let at = from; at <= to; at += DAY_MS) days.push(utcDay(at));
  // One key per day, each in its own Cluster slot: read side by side rather than pipelined.
  const hashes = await Promise.all(
    days.map((day) => redis.hgetall(dailyCountsKey(prefix, range.journeyId, day))),
  );
  const rows: DailyCount[] = [];
  days.forEach((day, index) => {
    const hash = hashes[index] ?? {};
    const byRow = new Map<string, DailyCount>();
    for (const [field, value] of Object.entries(hash)) {
      // Message ids and channels have no `|`; a variant label might, so it is what lies between.
      const first = field.indexOf('|');
      const second = field.indexOf('|', first + 1);
      const last = field.lastIndexOf('|');
      if (first === -1 || second === -1 || last <= second) continue;
      const rowKey = field.slice(0, last);
      let row = byRow.get(rowKey);
      if (!row) {
        row = {
          day,
          message: field.slice(0, first),
          channel: field.slice(first + 1, second),
          variant: field.slice(second + 1, last),
          counts: {},
        };
        byRow.set(rowKey, row);
      }
      row.counts[field.slice(last + 1) as DailyMetric] = Number(value);
    }
    const sorted = [...byRow.entries()].sort(([a], [b]) => a.localeCompare(b));
    rows.push(...sorted.map(([, row]) => row));
  });
  return rows;
}
