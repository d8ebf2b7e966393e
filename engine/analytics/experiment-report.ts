import { z } from 'zod';
import { InvalidInputError, parseInput } from '../ingest/ingest-schema.js';
import { twoProportionTest, type TwoProportionTest } from './significance.js';

/** One arm of a split: how many customers it took in and how many converted. */
export const ExperimentGroup = z
  .object({
    variant: z.string().min(1),
    entered: z.number().int().nonnegative(),
    converted: z.number().int().nonnegative(),
    /** A holdout group receives nothing; it measures what happens without the journey. */
    holdout: z.boolean().default(false),
  })
  .refine((g) => g.converted <= g.entered, {
    message: 'converted cannot exceed entered',
    path: ['converted'],
  });
export type ExperimentGroup = z.input<typeof ExperimentGroup>;

export interface ExperimentReportOptions {
  /** The variant the others are compared with; it cannot be a holdout. */
  control: string;
  /** Significance level; 0.05 when not given. Intervals are at 1 − alpha. */
  alpha?: number;
}

/**
 * A comparison and whether its p-value is below alpha: the exact test's where the normal
 * approximation is not reliable (see `exactPValue`), so a handful of customers is not called
 * significant on a z-test that does not hold for them.
 */
export type Comparison = TwoProportionTest & { significant: boolean };

export interface VariantResult {
  variant: string;
  entered: number;
  converted: number;
  /** converted / entered; null while nobody has entered. */
  rate: number | null;
  control: boolean;
  holdout: boolean;
  /** Against the control; null for the control itself, holdouts, and empty groups. */
  vsControl: Comparison | null;
}

export interface ExperimentReport {
  alpha: number;
  variants: VariantResult[];
  /**
   * Every variant that received the journey (the control included) pooled, against the holdout
   * groups pooled: the journey's lift over no journey. Null without a non-empty holdout.
   */
  journeyLift: Comparison | null;
}

const Alpha = z.number().gt(0).lt(1);

type Counts = { entered: number; converted: number };

function pool(groups: readonly Counts[]): Counts {
  return groups.reduce(
    (sum, g) => ({ entered: sum.entered + g.entered, converted: sum.converted + g.converted }),
    {
      entered: 0,
      converted: 0,
    },
  );
}

function compare(control: Counts, treatment: Counts, alpha: number): Comparison | null {
  if (control.entered === 0 || treatment.entered === 0) return null;
  const test = twoProportionTest(control, treatment, { confidence: 1 - alpha });
  return { ...test, significant: (test.exactPValue ?? test.pValue) < alpha };
}

function checkControl(groups: readonly z.output<typeof ExperimentGroup>[], control: string): Counts {
  const names = groups.map((g) => g.variant);
  const duplicate = names.find((name, i) => names.indexOf(name) !== i);
  if (duplicate !== undefined) {
    throw new InvalidInputError(
      [{ field: 'variant', message: `"${duplicate}" is listed twice` }],
      'experiment groups',
    );
  }
  const found = groups.find((g) => g.variant === control);
  if (!found || found.holdout) {
    const treated = groups.filter((g) => !g.holdout).map((g) => `"${g.variant}"`);
    throw new InvalidInputError(
      [
        {
          field: 'control',
          message: `"${control}" is not a variant that receives the journey (${treated.join(', ')})`,
        },
      ],
      'experiment report options',
    );
  }
  return found;
}

/**
 * Reads a split test: per variant the conversion rate and, against the control, the lift,
 * p-value, interval and whether it is significant at `alpha`; and, when there is a holdout, the
 * journey's lift over no journey.
 *
 * Each variant is tested against the control on its own, without correcting for several
 * comparisons: with k treatments, compare p-values with alpha / k (Bonferroni) to keep the chance
 * of any false positive at alpha. A small test is judged by Fisher's exact test (`exactPValue`).
 *
 * @throws InvalidInputError when counts are not whole or convert more than entered, a variant is
 *   listed twice, the control is missing or a holdout, or alpha is not between 0 and 1.
 * @example
 * experimentReport(
 *   [{ variant: 'A', entered: 1000, converted: 100 }, { variant: 'B', entered: 1000, converted: 130 },
 *    { variant: 'holdout', entered: 500, converted: 40, holdout: true }],
 *   { control: 'A' },
 * ); // B: lift 0.3, p ≈ 0.035, significant; journey lift (230/2000 against 40/500) ≈ 0.44
 */
export function experimentReport(
  groups: readonly ExperimentGroup[],
  options: ExperimentReportOptions,
): ExperimentReport {
  const parsed = parseInput(z.array(ExperimentGroup), groups, 'experiment groups');
  const alpha = parseInput(Alpha, options.alpha ?? 0.05, 'significance level');
  const control = checkControl(parsed, options.control);

  const variants = parsed.map((g): VariantResult => {
    const isControl = g.variant === options.control;
    return {
      variant: g.variant,
      entered: g.entered,
      converted: g.converted,
      rate: g.entered === 0 ? null : g.converted / g.entered,
      control: isControl,
      holdout: g.holdout,
      vsControl: isControl || g.holdout ? null : compare(control, g, alpha),
    };
  });
  const holdouts = parsed.filter((g) => g.holdout);
  const journeyLift =
    holdouts.length === 0 ? null : compare(pool(holdouts), pool(parsed.filter((g) => !g.holdout)), alpha);
  return { alpha, variants, journeyLift };
}
