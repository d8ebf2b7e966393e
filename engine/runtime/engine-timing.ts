import { ChorusError } from '../errors.js';

/**
 * The longest delay a Node.js timer keeps (about 24.8 days): a longer one fires after 1 ms, and an
 * interval then runs in a tight loop.
 */
export const MAX_TIMER_MS = 2_147_483_647;

/**
 * The bounds of the engine's timing options, the same for `createEngine` and for the environment
 * variables that set them (config.ts): TIME_SCALE, SWEEP_INTERVAL_MS, LOCK_DURATION_MS.
 */
export const TIMING_BOUNDS = {
  timeScale: { max: 1e9 },
  sweepIntervalMs: { min: 100, max: MAX_TIMER_MS },
  lockMs: { min: 500, max: 600_000 },
} as const;

export type TimingOption = keyof typeof TIMING_BOUNDS;

const EXPECTED: Record<TimingOption, string> = {
  timeScale: `a number above 0 and at most ${TIMING_BOUNDS.timeScale.max} (journey waits run that many times faster; 1 is real time)`,
  sweepIntervalMs: `a whole number of milliseconds from ${TIMING_BOUNDS.sweepIntervalMs.min} to ${MAX_TIMER_MS} (about 24 days, the longest timer Node.js keeps)`,
  lockMs: `a whole number of milliseconds from ${TIMING_BOUNDS.lockMs.min} to ${TIMING_BOUNDS.lockMs.max}`,
};

const VARIABLE: Record<TimingOption, string> = {
  timeScale: 'TIME_SCALE',
  sweepIntervalMs: 'SWEEP_INTERVAL_MS',
  lockMs: 'LOCK_DURATION_MS',
};

export class EngineTimingError extends ChorusError {
  constructor(
    readonly option: TimingOption,
    readonly value: number,
  ) {
    super(
      'CHORUS_ENGINE_TIMING_INVALID',
      `createEngine was given ${option} ${value}; it takes ${EXPECTED[option]}. ` +
        `To fix: pass such a number (the ${VARIABLE[option]} of the processes), or leave ${option} out for its default.`,
    );
  }
}

/**
 * Throws {@link EngineTimingError} for a timing option the engine cannot run with. Unchecked, a
 * time scale of 0 parks every wait in the timer wheel for ever (its due time reads +inf), a
 * negative one fires every wait at once, a sweep interval of 0 schedules no sweep (so no wheel
 * timer is ever promoted) and one beyond a Node.js timer's reach reads Redis in a tight loop.
 */
export function checkEngineTiming(options: Partial<Record<TimingOption, number>>): void {
  const { timeScale, sweepIntervalMs, lockMs } = options;
  if (timeScale !== undefined && !(timeScale > 0 && timeScale <= TIMING_BOUNDS.timeScale.max))
    throw new EngineTimingError('timeScale', timeScale);
  if (sweepIntervalMs !== undefined && !wholeWithin(sweepIntervalMs, TIMING_BOUNDS.sweepIntervalMs))
    throw new EngineTimingError('sweepIntervalMs', sweepIntervalMs);
  if (lockMs !== undefined && !wholeWithin(lockMs, TIMING_BOUNDS.lockMs))
    throw new EngineTimingError('lockMs', lockMs);
}

function wholeWithin(value: number, bounds: { min: number; max: number }): boolean {
  return Number.isInteger(value) && value >= bounds.min && value <= bounds.max;
}
