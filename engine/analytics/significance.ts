import { z } from 'zod';
import { parseInput } from '../ingest/ingest-schema.js';
import { fisherExactPValue } from './fisher-exact.js';
import { normalQuantile, twoSidedPValue } from './normal-distribution.js';

/** How many customers entered a group and how many of them converted. */
export const ProportionSample = z
  .object({ entered: z.number().int().positive(), converted: z.number().int().nonnegative() })
  .refine((s) => s.converted <= s.entered, {
    message: 'converted cannot exceed entered',
    path: ['converted'],
  });
export type ProportionSample = z.infer<typeof ProportionSample>;

export interface TwoProportionOptions {
  /** Level of the confidence interval for the difference; 0.95 when not given. */
  confidence?: number;
}

export interface ConfidenceInterval {
  lower: number;
  upper: number;
  /** For example 0.95. */
  level: number;
}

export interface TwoProportionTest {
  controlRate: number;
  treatmentRate: number;
  /** treatmentRate − controlRate. */
  difference: number;
  /** difference / controlRate; null when the control never converted. */
  relativeLift: number | null;
  /** The test statistic, with the pooled standard error. */
  z: number;
  /** Two-sided: the chance of a |z| at least this large if both groups converted alike. */
  pValue: number;
  /**
   * For the difference: Wald's (unpooled standard error), or Agresti–Caffo's where the
   * approximation is not reliable, so a group at 0% or 100% does not make it a single point.
   */
  confidenceInterval: ConfidenceInterval;
  /**
   * False when a group has fewer than 5 conversions or fewer than 5 non-conversions: the normal
   * approximation to the binomial behind z, p and the interval is then poor (the usual np ≥ 5 and
   * n(1 − p) ≥ 5 rule): read `exactPValue` instead of `pValue`; the interval is then Agresti–Caffo's.
   */
  approximationReliable: boolean;
  /**
   * Fisher's exact test's two-sided p-value, given where the approximation is not reliable: 3 of
   * 3 converting against 0 of 3 has a z-test p of 0.014, and an exact one of 0.1. Null otherwise.
   */
  exactPValue: number | null;
}

const Confidence = z.number().gt(0).lt(1);

// Both cells of both groups must reach this for the normal approximation to be trusted.
const MIN_CELL = 5;

function hasSmallCell(sample: ProportionSample): boolean {
  return sample.converted < MIN_CELL || sample.entered - sample.converted < MIN_CELL;
}

/**
 * The interval for treatment's rate minus control's. Wald's, with the unpooled standard error,
 * where every cell has at least {@link MIN_CELL}; else Agresti–Caffo's, which adds one conversion
 * and one non-conversion to each group first: Wald's error is 0 when a group converts at 0% or
 * 100%, and 3 of 3 against 0 of 3 would have the difference at exactly 100 points "with 95%
 * confidence" (Agresti and Caffo, The American Statistician 54(4), 2000). Kept within −1 to 1.
 */
function differenceInterval(
  c: ProportionSample,
  t: ProportionSample,
  level: number,
  reliable: boolean,
): ConfidenceInterval {
  const added = reliable ? 0 : 1;
  const rate = (s: ProportionSample) => (s.converted + added) / (s.entered + 2 * added);
  const variance = (s: ProportionSample) => (rate(s) * (1 - rate(s))) / (s.entered + 2 * added);
  const centre = rate(t) - rate(c);
  const margin = normalQuantile(1 - (1 - level) / 2) * Math.sqrt(variance(c) + variance(t));
  return { lower: Math.max(-1, centre - margin), upper: Math.min(1, centre + margin), level };
}

/**
 * Two-proportion z-test of a treatment's conversion rate against a control's.
 *
 * z = (p̂ₜ − p̂꜀) / √(p̂(1 − p̂)(1/nₜ + 1/n꜀)) with the pooled rate p̂ = (xₜ + x꜀)/(nₜ + n꜀), as the
 * null hypothesis of equal rates implies; p = 2(1 − Φ(|z|)). The interval for the difference uses
 * the unpooled (Wald) standard error √(p̂ₜ(1 − p̂ₜ)/nₜ + p̂꜀(1 − p̂꜀)/n꜀), since outside the null the
 * rates need not be equal (Agresti, An Introduction to Categorical Data Analysis, §2.2); with
 * fewer than 5 conversions or non-conversions in a group, Agresti–Caffo's (see differenceInterval). When
 * both groups convert at 0% or both at 100% there is no variation: z is 0 and p is 1.
 *
 * @throws InvalidInputError when counts are not whole, a group is empty, more convert than
 *   entered, or the confidence is not between 0 and 1.
 * @example
 * twoProportionTest({ entered: 1000, converted: 100 }, { entered: 1000, converted: 130 });
 * // rates 0.10 and 0.13, lift 0.3, z ≈ 2.10, p ≈ 0.036, 95% interval ≈ (0.002, 0.058)
 */
export function twoProportionTest(
  control: ProportionSample,
  treatment: ProportionSample,
  options: TwoProportionOptions = {},
): TwoProportionTest {
  const c = parseInput(ProportionSample, control, 'control counts');
  const t = parseInput(ProportionSample, treatment, 'treatment counts');
  const level = parseInput(Confidence, options.confidence ?? 0.95, 'confidence level');

  const controlRate = c.converted / c.entered;
  const treatmentRate = t.converted / t.entered;
  const difference = treatmentRate - controlRate;

  const pooled = (c.converted + t.converted) / (c.entered + t.entered);
  const pooledError = Math.sqrt(pooled * (1 - pooled) * (1 / c.entered + 1 / t.entered));
  const z = pooledError === 0 ? 0 : difference / pooledError;

  const reliable = !hasSmallCell(c) && !hasSmallCell(t);
  const confidenceInterval = differenceInterval(c, t, level, reliable);

  return {
    controlRate,
    treatmentRate,
    difference,
    relativeLift: controlRate === 0 ? null : difference / controlRate,
    z,
    pValue: twoSidedPValue(z),
    confidenceInterval,
    approximationReliable: reliable,
    exactPValue: reliable ? null : fisherExactPValue(c, t),
  };
}
