import { z } from 'zod';
import { parseInput } from '../ingest/ingest-schema.js';

const DAY_MS = 86_400_000;

/** A calendar date (`2026-12-31`, UTC) or an instant with its offset (`2026-12-31T17:00:00+01:00`). */
const DateOrInstant = z.union([z.iso.date(), z.iso.datetime({ offset: true })]);

const DATE_ONLY = /^\d{4}-\d{2}-\d{2}$/;

// A date names a whole day: a period starts at its first instant and ends after its last, so a
// deadline of 2026-12-31 leaves all of the 31st.
function startOf(value: string): number {
  return Date.parse(value);
}
function endOf(value: string): number {
  return DATE_ONLY.test(value) ? Date.parse(value) + DAY_MS : Date.parse(value);
}

/**
 * The instants an objective counts over, epoch ms: `from` its start, `to` the end of its deadline
 * (exclusive). What happens after the deadline is too late to reach the target.
 */
export function objectivePeriod(objective: Objective): { from: number; to: number } {
  return { from: startOf(objective.start), to: endOf(objective.deadline) };
}

/**
 * A SMART objective a journey declares: a measurable metric, its target and the period to reach
 * it in, e.g. a 15% conversion rate this quarter (of the period's entries, those that converted in it).
 * `conversion-rate` targets are fractions (0.15);
 * `conversions` and `revenue` are totals counted from `start`.
 */
export const Objective = z
  .object({
    metric: z.enum(['conversion-rate', 'conversions', 'revenue']),
    target: z.number().positive().finite(),
    start: DateOrInstant,
    deadline: DateOrInstant,
  })
  .refine((o) => endOf(o.deadline) > startOf(o.start), { message: 'must be after start', path: ['deadline'] })
  .refine((o) => o.metric !== 'conversion-rate' || o.target <= 1, {
    message: 'a conversion-rate target is a fraction between 0 and 1 (0.15 for 15%)',
    path: ['target'],
  });
export type Objective = z.infer<typeof Objective>;

export interface ObjectiveProgress {
  metric: Objective['metric'];
  /** Null for a conversion rate while nobody has entered in the objective's period: no rate yet, not 0%. */
  actual: number | null;
  target: number;
  /** actual / target: 1 means reached; null without an actual. */
  ratio: number | null;
  /** Where the metric should be by now to reach the target on time. */
  expected: number;
  /** actual ≥ expected; null without an actual, when there is nothing to judge by. */
  onTrack: boolean | null;
  /** actual ≥ target (false without an actual). */
  met: boolean;
  /** Whole days until the deadline, counting a part day as one; 0 once it has passed. */
  daysLeft: number;
}

/**
 * Reads an objective, or throws InvalidInputError naming each bad field.
 *
 * @example
 * parseObjective({ metric: 'conversions', target: 300, start: '2026-10-01', deadline: '2026-12-29' });
 */
export function parseObjective(input: unknown): Objective {
  return parseInput(Objective, input, 'objective');
}

/**
 * Actual against target, and whether the pace will reach it.
 *
 * Totals (`conversions`, `revenue`) are paced linearly: by now they should be at
 * target × (now − start) / (deadline − start), clamped to [0, target]. A conversion rate is not a
 * running total, so it is on track when it is at the target already; with no entries yet (null) it
 * is neither on track nor behind.
 *
 * @param now epoch milliseconds, read once from the engine's clock.
 * @throws InvalidInputError when the objective does not parse.
 * @example
 * // Halfway through a 90-day period with 140 of 300 conversions: expected 150, not on track.
 * objectiveProgress({ metric: 'conversions', target: 300, start: '2026-10-01', deadline: '2026-12-29' },
 *   140, Date.parse('2026-11-15'));
 */
export function objectiveProgress(
  objective: Objective,
  actual: number | null,
  now: number,
): ObjectiveProgress {
  const { metric, target, start, deadline } = parseObjective(objective);
  const startMs = startOf(start);
  const endMs = endOf(deadline);
  const elapsed = Math.min(1, Math.max(0, (now - startMs) / (endMs - startMs)));
  const expected = metric === 'conversion-rate' ? target : target * elapsed;
  return {
    metric,
    actual,
    target,
    ratio: actual === null ? null : actual / target,
    expected,
    onTrack: actual === null ? null : actual >= expected,
    met: actual !== null && actual >= target,
    daysLeft: Math.max(0, Math.ceil((endMs - now) / DAY_MS)),
  };
}
