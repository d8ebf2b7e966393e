import { describe, expect, it } from 'vitest';
import { InvalidDurationError, parseDuration } from '../engine/index.js';

describe('parseDuration', () => {
  it.each([
    ['2d', 172_800_000],
    ['90s', 90_000],
    ['1h30m', 5_400_000],
    ['1.5h', 5_400_000],
    ['250ms', 250],
    ['1w', 604_800_000],
    ['P2D', 172_800_000],
    ['PT4H30M', 16_200_000],
    ['P1W', 604_800_000],
    ['P1DT12H', 129_600_000],
    ['3600000', 3_600_000],
    [5000, 5000],
  ])('reads %s as %i ms', (input, ms) => {
    expect(parseDuration(input)).toBe(ms);
  });

  it.each(['', '2 days', '2days', 'P', 'PT', 'P1M', 'P1Y', '-5s', 'abc', -1, Number.NaN])(
    'refuses %j with a fix',
    (input) => {
      expect(() => parseDuration(input)).toThrow(InvalidDurationError);
      expect(() => parseDuration(input)).toThrow(/To fix: write a number of milliseconds/);
    },
  );
});
