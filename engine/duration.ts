import { ChorusError } from './errors.js';

/** A wait as journey authors write it: `"2d"`, `"1h30m"`, ISO 8601 `"P2D"` / `"PT4H"`, or milliseconds. */
export type DurationInput = string | number;

/** How a duration may be written, for messages that say how to write one. */
export const DURATION_FORMS =
  'a number of milliseconds, a shorthand such as "90s", "15m", "4h", "2d", "1w", "1h30m", ' +
  'or an ISO 8601 duration such as "P2D" or "PT4H30M"';

export class InvalidDurationError extends ChorusError {
  constructor(readonly input: unknown) {
    super(
      'CHORUS_INVALID_DURATION',
      `Cannot read ${JSON.stringify(input)} as a duration. To fix: write ${DURATION_FORMS}.`,
    );
  }
}

const UNIT_MS: Record<string, number> = {
  ms: 1,
  s: 1_000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 604_800_000,
};

const SHORTHAND = /^(\d+(?:\.\d+)?)(ms|s|m|h|d|w)/;
// Years and months have no fixed length, so they are refused rather than guessed.
const ISO =
  /^P(?:(\d+(?:\.\d+)?)W)?(?:(\d+(?:\.\d+)?)D)?(?:T(?:(\d+(?:\.\d+)?)H)?(?:(\d+(?:\.\d+)?)M)?(?:(\d+(?:\.\d+)?)S)?)?$/;

function parseShorthand(text: string): number | undefined {
  let rest = text;
  let total = 0;
  while (rest.length > 0) {
    const match = SHORTHAND.exec(rest);
    if (!match) return undefined;
    total += Number(match[1]) * (UNIT_MS[match[2] ?? ''] ?? Number.NaN);
    rest = rest.slice(match[0].length);
  }
  return total;
}

function parseIso(text: string): number | undefined {
  const match = ISO.exec(text);
  if (!match || text === 'P' || text.endsWith('T')) return undefined;
  const [, weeks, days, hours, minutes, seconds] = match.map((part) => Number(part ?? 0));
  return (
    (weeks ?? 0) * UNIT_MS.w! +
    (days ?? 0) * UNIT_MS.d! +
    (hours ?? 0) * UNIT_MS.h! +
    (minutes ?? 0) * UNIT_MS.m! +
    (seconds ?? 0) * UNIT_MS.s!
  );
}

/** Returns the duration in milliseconds, or throws {@link InvalidDurationError}. */
export function parseDuration(input: DurationInput): number {
  const ms =
    typeof input === 'number'
      ? input
      : /^\d+$/.test(input.trim())
        ? Number(input.trim())
        : input.trim().startsWith('P')
          ? parseIso(input.trim())
          : parseShorthand(input.trim());
  if (
    ms === undefined ||
    !Number.isFinite(ms) ||
    ms < 0 ||
    (typeof input === 'string' && input.trim() === '')
  ) {
    throw new InvalidDurationError(input);
  }
  return Math.round(ms);
}
