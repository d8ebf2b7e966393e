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

/**
 * A running total of amounts, added up in the decimals they were written in: as binary fractions
 * 0.7 + 0.1 is 0.7999999999999999, a revenue total a report would show (and a revenue objective
 * of 0.8 would read as missed). Each amount is taken as the shortest decimal that reads back as
 * it (what `String` gives: `0.7`, `49.9`), the sum is kept exact, and `value` is the number
 * nearest to it.
 *
 * @example
 * const total = new RevenueTotal();
 * total.add(0.7);
 * total.add(0.1);
 * total.value; // 0.8
 */
export class RevenueTotal {
  /** The sum, in units of 10^-scale. */
  #units = 0n;
  #scale = 0;

  add(amount: number): void {
    if (amount === 0 || !Number.isFinite(amount)) return;
    const [units, scale] = decimalOf(amount);
    if (scale > this.#scale) {
      this.#units *= 10n ** BigInt(scale - this.#scale);
      this.#scale = scale;
    }
    this.#units += units * 10n ** BigInt(this.#scale - scale);
  }

  get value(): number {
    // Read as a decimal literal: the nearest number to the exact sum, at any scale.
    return Number(`${this.#units}e-${this.#scale}`);
  }
}

/** A finite number as whole units of 10^-scale, from its shortest decimal (`1.5e-7` included). */
function decimalOf(amount: number): [bigint, number] {
  const [mantissa = '0', exponent = '0'] = String(amount).split('e');
  const [whole = '0', fraction = ''] = mantissa.split('.');
  const scale = fraction.length - Number(exponent);
  const units = BigInt(`${whole}${fraction}`);
  return scale >= 0 ? [units, scale] : [units * 10n ** BigInt(-scale), 0];
}
