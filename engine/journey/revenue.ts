import { z } from 'zod';

/** A decimal number written as text, with spaces around it allowed: `49.90`, `-5`, ` 12 `. */
const DECIMAL = /^\s*-?\d+(\.\d+)?\s*$/;

/**
 * A goal event's `revenue` as the engine records it: a finite number, or a decimal number sent
 * as a string (`"49.90"`, which Segment senders often send); anything else is no revenue.
 */
export function readRevenue(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) ? value : undefined;
  if (typeof value !== 'string' || !DECIMAL.test(value)) return undefined;
  // Some 310 digits or more read as Infinity, which the conversion log would keep as null.
  const revenue = Number(value);
  return Number.isFinite(revenue) ? revenue : undefined;
}

/**
 * The schema of a `revenue` property in a journey's events: a number, or a decimal string read as
 * one, so an event whose sender writes `"49.90"` is neither refused nor counted as no revenue.
 *
 * @example
 * events: { 'Order Completed': z.object({ revenue: Revenue.optional() }).loose() }
 */
export const Revenue = z.union([z.number(), z.string()]).transform((value, ctx) => {
  const revenue = readRevenue(value);
  if (revenue === undefined) {
    ctx.addIssue({
      code: 'custom',
      message: 'expected an amount: a number, or a decimal number as a string',
    });
    return z.NEVER;
  }
  return revenue;
});
