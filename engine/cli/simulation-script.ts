import { z } from 'zod';
import { strictObject } from '../strict-object.js';
import { parseDuration } from '../duration.js';
import { IdentifyTraits, InvalidInputError, TrackInput, UserId } from '../ingest/ingest-schema.js';

/** Traits as a JSON object, e.g. `{ "firstName": "Ada", "email": "ada@example.com" }`. */
export const Traits = z.record(z.string(), z.unknown());

/**
 * An instant with its offset (`Z` or `+08:00`), on a day the calendar has: without an offset,
 * Date.parse would read the time in the zone of the machine running the simulation, and it rolls
 * 30 February over to March.
 */
const IsoInstant = z.iso.datetime({
  offset: true,
  // The fix, as for `at`: zod's own "Invalid ISO datetime" does not say an offset is wanted.
  error: (issue) => (issue.code === 'invalid_format' ? notAnInstant(issue.input) : undefined),
});

function notAnInstant(input: unknown): string {
  return `${JSON.stringify(input)} is not an ISO 8601 instant with its offset, such as 2026-01-04T12:00:00Z or 2026-01-04T12:00:00+08:00`;
}

/**
 * When an event happens: `"+2d"` after the previous event, `"2d"` (or `"0s"`) after the start
 * of the simulation, or an ISO 8601 instant.
 */
const At = z.string().transform((at, ctx) => {
  if (/^\d{4}-\d{2}-\d{2}T/.test(at)) {
    if (!IsoInstant.safeParse(at).success) {
      ctx.addIssue({ code: 'custom', message: notAnInstant(at) });
      return z.NEVER;
    }
    return { kind: 'absolute' as const, ms: Date.parse(at) };
  }
  const relative = at.startsWith('+');
  try {
    return {
      kind: relative ? ('after-previous' as const) : ('after-start' as const),
      ms: parseDuration(relative ? at.slice(1) : at),
    };
  } catch {
    ctx.addIssue({
      code: 'custom',
      message: `expected "+2d" (after the previous event), "2d" (after the start) or an ISO instant, got "${at}"`,
    });
    return z.NEVER;
  }
});

const Properties = z.record(z.string(), z.unknown());

/** One timed event of a simulation: Segment's identify and track, or entry into an API journey. */
export const ScriptEvent = z.discriminatedUnion('type', [
  // As ingest reads them: an identify it would refuse (a display name in `email`, a consent
  // answer that is not one) is refused here, not simulated as if it had been stored.
  strictObject({ at: At, type: z.literal('identify'), traits: IdentifyTraits }),
  strictObject({
    at: At,
    type: z.literal('track'),
    // As ingest takes it (at most 200 characters): a name the API refuses is not simulated.
    event: TrackInput.shape.event,
    properties: Properties.default({}),
  }),
  strictObject({ at: At, type: z.literal('trigger'), data: Properties.default({}) }),
]);
export type ScriptEvent = z.output<typeof ScriptEvent>;

/** Where a run starts when `start` is not given and the first event is not dated. */
export const DEFAULT_START = '2026-01-01T00:00:00Z';

/**
 * The file `chorus simulate --events` reads: a customer, their traits at the start, and timed
 * events. A bare array is read as the events of a customer with no traits. Without `start`, the
 * run starts at the first event when that is an ISO instant (events copied from a real log,
 * which a fixed default start after them would refuse as out of order), else at DEFAULT_START.
 */
export const SimulationScript = z.preprocess(
  (input) => (Array.isArray(input) ? { events: input } : input),
  strictObject({
    // An id the API takes (at most 256 characters), so the run is one the engine could have.
    customer: UserId.default('customer-1'),
    profile: IdentifyTraits.default({}),
    start: IsoInstant.optional(),
    events: z.array(ScriptEvent).min(1),
  }).transform(({ start, ...script }) => {
    const first = script.events[0]?.at;
    const dated = first?.kind === 'absolute' ? new Date(first.ms).toISOString() : undefined;
    return { ...script, start: start ?? dated ?? DEFAULT_START };
  }),
);
export type SimulationScript = z.output<typeof SimulationScript>;

/**
 * The latest time an event may fall at: the last instant an ISO 8601 date (a four-digit year)
 * can name. Much further, a century of `--until` or of the journey's waits after it would run
 * the clock past the last date JavaScript can show.
 */
const LATEST_EVENT = Date.parse('9999-12-31T23:59:59.999Z');

/** A script event placed on the simulation's clock. */
export type TimedEvent = ScriptEvent & { time: number };

/**
 * The events with their times, in the file's order.
 *
 * @throws InvalidInputError naming the first event that would happen before the one above it.
 */
export function placeEvents(script: SimulationScript, what: string): TimedEvent[] {
  const start = Date.parse(script.start);
  const events: TimedEvent[] = [];
  let previous = start;
  for (const [index, event] of script.events.entries()) {
    const time =
      event.at.kind === 'absolute'
        ? event.at.ms
        : (event.at.kind === 'after-start' ? start : previous) + event.at.ms;
    if (time > LATEST_EVENT) {
      throw new InvalidInputError(
        [
          {
            field: `events.${index}.at`,
            message: `falls after 9999-12-31T23:59:59.999Z, the last instant the simulation can show; place it earlier`,
          },
        ],
        what,
      );
    }
    if (time < previous) {
      const when = `${new Date(time).toISOString()} is before`;
      const before = new Date(previous).toISOString();
      throw new InvalidInputError(
        [
          {
            field: `events.${index}.at`,
            message:
              index > 0
                ? `${when} the event above it (${before}); list events in time order`
                : `${when} the start (${before}); give a "start" no later than the first event`,
          },
        ],
        what,
      );
    }
    events.push({ ...event, time });
    previous = time;
  }
  return events;
}
