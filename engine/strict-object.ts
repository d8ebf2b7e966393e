import { z } from 'zod';

/**
 * A zod object that refuses a field it does not know, naming it and the fields it does: a
 * misspelt field (`"propertes"`, `reEntry`) would otherwise be dropped without a word and its
 * default used instead. For input written by hand: journey definitions in JavaScript, the
 * simulation's events file.
 *
 * @example
 * strictObject({ id: z.string() }).parse({ idd: 'x' }); // throws: unknown field(s) "idd"; the fields are id
 */
export function strictObject<Shape extends z.ZodRawShape>(shape: Shape) {
  const known = Object.keys(shape).join(', ');
  return z.strictObject(shape, {
    error: (issue) =>
      issue.code === 'unrecognized_keys'
        ? `unknown field(s) ${issue.keys.map((key) => `"${key}"`).join(', ')}; the fields are ${known}`
        : undefined,
  });
}
