import { parseDuration, type DurationInput } from './duration.js';

/**
 * The engine's only source of "now". Read it once per job and pass the value down, so one job
 * never sees two different times.
 */
export interface Clock {
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };

/**
 * A clock that moves only when told to: the journey harness and the tests use it so that a
 * three-day wait takes no real time.
 *
 * @example
 * const clock = new FakeClock(Date.parse('2026-01-01T09:00:00Z'));
 * clock.advance('3d');
 */
export class FakeClock implements Clock {
  #now: number;
  constructor(start: number = Date.parse('2026-01-01T00:00:00Z')) {
    this.#now = start;
  }
  now(): number {
    return this.#now;
  }
  set(epochMs: number): void {
    this.#now = epochMs;
  }
  advance(by: DurationInput): number {
    this.#now += parseDuration(by);
    return this.#now;
  }
}
