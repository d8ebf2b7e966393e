import { z } from 'zod';

/** A number as people write one: decimal digits, a leading minus, a point and digits for a fraction. */
const PLAIN_DECIMAL = /^-?\d+(?:\.\d+)?$/;

/**
 * Text read as a number that `schema` then checks, written in plain decimals: `Number()` alone
 * also reads `0x10` as 16, `0b11` as 3, `1e3` as 1000, `Infinity`, and an empty text as 0. Where
 * `schema` takes whole numbers only (`.int()`), a fraction is refused in the same words. Spaces
 * around the number are ignored. The environment's number variables and the demo's options read
 * their numbers through this one rule.
 *
 * @example
 * decimalNumber(z.number().int().min(0)).parse('8080'); // 8080
 * decimalNumber(z.number().int()).safeParse('1e3').success; // false
 */
export function decimalNumber(schema: z.ZodNumber) {
  const whole = schema.format === 'safeint';
  return z
    .string()
    .transform((text, ctx) => {
      const trimmed = text.trim();
      const value = PLAIN_DECIMAL.test(trimmed) ? Number(trimmed) : Number.NaN;
      if (Number.isNaN(value) || (whole && !Number.isInteger(value))) {
        // Said plainly: zod's own message would be "expected number, received NaN".
        ctx.addIssue({
          code: 'custom',
          message: whole
            ? `"${text}" is not a whole number: write decimal digits only, such as 30`
            : `"${text}" is not a number: write decimal digits, with a point for a fraction, such as 30 or 0.5`,
        });
        return z.NEVER;
      }
      return value;
    })
    .pipe(schema);
}
