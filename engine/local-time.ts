import { DateTime, IANAZone } from 'luxon';

/** A time of day on a wall clock, as config and journeys write it: `"10:00"`, `"21:30"`. */
export interface LocalTime {
  hour: number;
  minute: number;
}

const HH_MM = /^([01]\d|2[0-3]):([0-5]\d)$/;

/** Reads `"HH:MM"` (24-hour, two digits each), or returns undefined. */
export function parseLocalTime(text: string): LocalTime | undefined {
  const match = HH_MM.exec(text);
  return match ? { hour: Number(match[1]), minute: Number(match[2]) } : undefined;
}

export function formatLocalTime(time: LocalTime): string {
  return `${String(time.hour).padStart(2, '0')}:${String(time.minute).padStart(2, '0')}`;
}

/** Whether a value names an IANA time zone luxon knows, such as `Europe/Berlin`. */
export function isTimeZone(name: unknown): name is string {
  return typeof name === 'string' && name.length > 0 && IANAZone.isValidZone(name);
}

/**
 * The traits that give a customer's time zone, first found first: `timezone`, the one the
 * customer or the sender set, then `deviceTimezone`, the zone of the device a Segment-style
 * library last identified from (`context.timezone`), which travels with the phone.
 */
const ZONE_TRAITS = ['timezone', 'deviceTimezone'] as const;

/**
 * The customer's time zone: the first of ZONE_TRAITS that names an IANA zone, else `fallback`.
 * A misspelt trait falls back rather than failing the send or the journey. Spaces around the name
 * (an import from a spreadsheet leaves them) do not make it another zone: read as none, they put
 * the customer on the default clock, and quiet hours let a marketing text wake them at night.
 */
export function customerTimeZone(traits: Record<string, unknown>, fallback: string): string {
  for (const trait of ZONE_TRAITS) {
    const value = traits[trait];
    const name = typeof value === 'string' ? value.trim() : undefined;
    if (isTimeZone(name)) return name;
  }
  return fallback;
}

function offsetAt(zone: string, at: number): number {
  return IANAZone.create(zone).offset(at);
}

/** Minutes since local midnight that the clocks in `zone` show at instant `at`. */
export function localMinutes(at: number, zone: string): number {
  const local = DateTime.fromMillis(at, { zone });
  return local.hour * 60 + local.minute;
}

/**
 * The instants at which the clocks in `zone` show `time` on one date: one on an ordinary day,
 * two when the clocks go back over it (the repeated hour), and, when they spring forward over
 * it (the skipped hour), the instant they jump past it.
 */
function occurrences(
  date: { year: number; month: number; day: number },
  time: LocalTime,
  zone: string,
): number[] {
  const wall = Date.UTC(date.year, date.month - 1, date.day, time.hour, time.minute);
  // The offsets in force around that day: a wall time shows under one of them, or under none.
  const offsets = [...new Set([-86_400_000, 0, 86_400_000].map((d) => offsetAt(zone, wall + d)))];
  const found = offsets
    .map((offset) => wall - offset * 60_000)
    .filter((at) => wall - offsetAt(zone, at) * 60_000 === at)
    .sort((a, b) => a - b);
  if (found.length > 0) return [...new Set(found)];
  // Skipped: the jump lies between the wall time read under the old and the new offset.
  const bounds = offsets.map((offset) => wall - offset * 60_000);
  let lo = Math.min(...bounds);
  let hi = Math.max(...bounds);
  const after = offsetAt(zone, hi);
  while (hi - lo > 1) {
    const mid = Math.floor((lo + hi) / 2);
    if (offsetAt(zone, mid) === after) hi = mid;
    else lo = mid;
  }
  return [hi];
}

/**
 * The first instant at or after `from` at which the clocks in `zone` show `time`.
 *
 * Across daylight-saving changes: a time the clocks skip (02:30 in New York on 2026-03-08) is
 * reached the moment they jump past it (03:00 EDT), the first moment the clocks show a later
 * time; a time the clocks show twice (01:30 in New York on 2026-11-01) is reached at its first
 * showing not before `from`, so a wait that starts in the first pass ends in it.
 *
 * @example
 * nextLocalTime(Date.parse('2026-06-01T20:00:00Z'), 'Europe/Berlin', { hour: 10, minute: 0 });
 * // Date.parse('2026-06-02T08:00:00Z')
 */
export function nextLocalTime(from: number, zone: string, time: LocalTime): number {
  const today = DateTime.fromMillis(from, { zone });
  for (let days = 0; days < 3; days++) {
    const date = DateTime.utc(today.year, today.month, today.day).plus({ days });
    const next = occurrences(date, time, zone).find((at) => at >= from);
    if (next !== undefined) return next;
  }
  // Unreachable: every date has at least one occurrence.
  throw new Error(
    `no ${formatLocalTime(time)} in ${zone} within three days of ${new Date(from).toISOString()}`,
  );
}

/**
 * Where a wait until the local `time` that starts at `now` ends: at the first showing of `time`
 * after `now`, or, when the clocks show `time` at `now` (the wait's own timer fired, in a daily
 * loop), at the next day's: the clocks showing it again that night, when they go back over it
 * (01:30 in New York on 2026-11-01), is the same day's time, and waiting for it would do a daily
 * step twice in one night.
 */
export function localTimeWaitEnd(now: number, zone: string, time: LocalTime): number {
  const next = nextLocalTime(now + 1, zone, time);
  const here = DateTime.fromMillis(now, { zone });
  const inIt = here.hour === time.hour && here.minute === time.minute;
  if (!inIt || !DateTime.fromMillis(next, { zone }).hasSame(here, 'day')) return next;
  return nextLocalTime(here.plus({ days: 1 }).startOf('day').toMillis(), zone, time);
}

/** A daily stretch of local time, such as quiet hours `21:00-08:00`; it may span midnight. */
export interface LocalWindow {
  start: LocalTime;
  end: LocalTime;
}

/** Whether the clocks in `zone` show a time inside the window at `at`: start included, end not. */
export function inLocalWindow(at: number, zone: string, window: LocalWindow): boolean {
  const minutes = localMinutes(at, zone);
  const start = window.start.hour * 60 + window.start.minute;
  const end = window.end.hour * 60 + window.end.minute;
  return start < end ? minutes >= start && minutes < end : minutes >= start || minutes < end;
}
