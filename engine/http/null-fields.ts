import type { z } from 'zod';

/**
 * An optional field sent as null is none, as Segment takes it: a serialiser that writes every
 * field (.NET's by default, Jackson's, a dataclass's) sends null for one a call lacks, and
 * refused, it cost the whole request (a batch around the call, say).
 */
export const orNone = <T extends z.ZodType>(field: T) =>
  field.nullable().transform((value) => (value === null ? undefined : value));

/** The same for `properties`, `traits` and `data`, which are `{}` when none. */
export const orEmpty = <T extends z.ZodType<Record<string, unknown>>>(field: T) =>
  field.nullable().transform((value): Record<string, unknown> => value ?? {});
