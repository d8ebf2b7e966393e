import { describe, expect, it } from 'vitest';
import { normalCdf, normalQuantile, twoSidedPValue } from '../../engine/analytics/normal-distribution.js';

// Reference values are the standard normal table entries (e.g. Abramowitz & Stegun, Table 26.1),
// given to more digits than the approximations' documented error.
describe('the standard normal distribution', () => {
  it.each([
    [0, 0.5],
    [1, 0.841344746],
    [1.959963985, 0.975],
    [-1.644853627, 0.05],
    [3, 0.998650102],
    [-3, 0.001349898],
  ])('Φ(%d) is %d', (x, p) => {
    expect(normalCdf(x)).toBeCloseTo(p, 7);
  });

  it('keeps the leading digits of far tail areas', () => {
    // 2·(1 − Φ(5)) = 5.7330e-7; the erfc fit's fractional error (< 1.2e-7) keeps 5 digits.
    expect(twoSidedPValue(5) / 5.733031e-7).toBeCloseTo(1, 5);
    expect(twoSidedPValue(-5)).toBe(twoSidedPValue(5));
    expect(twoSidedPValue(0)).toBe(1);
  });

  it.each([
    [0.5, 0],
    [0.975, 1.959963985],
    [0.995, 2.575829304],
    [0.95, 1.644853627],
    [0.9, 1.281551566],
    [0.01, -2.326347874],
    [0.999, 3.090232306],
  ])('Φ⁻¹(%d) is %d', (p, x) => {
    expect(normalQuantile(p)).toBeCloseTo(x, 8);
  });

  it('answers ±Infinity at the ends of (0, 1)', () => {
    expect(normalQuantile(0)).toBe(-Infinity);
    expect(normalQuantile(1)).toBe(Infinity);
  });
});
