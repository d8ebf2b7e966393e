import { InvalidInputError, type FieldIssue } from './ingest-schema.js';

/**
 * The largest call (a `track`, an `identify`, each call of a batch, a journey trigger) accepted,
 * as JSON, in bytes: 32 KB, as Segment's HTTP API and Customer.io's Track API take. Each call is
 * kept in the customer's inbox and among their recent events, and a trigger's data in the journey
 * instance, so without a bound one customer could hold a hundred request bodies' worth of Redis.
 */
export const DEFAULT_MAX_CALL_BYTES = 32 * 1024;

/** The sizes a call may be held to, the same for `createEngine` and MAX_CALL_BYTES (config.ts). */
export const CALL_BYTES_BOUNDS = { min: 1024, max: 100 * 1024 * 1024 } as const;

/** What to do about a call refused for its size. */
export const CALL_SIZE_FIX =
  'send less in each call (keep documents, images and whole orders elsewhere and send their id or URL), or raise MAX_CALL_BYTES.';

/**
 * The problem with `call` if it is larger than `limit` bytes as compact JSON (`JSON.stringify`,
 * in UTF-8), named as `field`.
 *
 * @example
 * callSizeIssue({ event: 'x'.repeat(40_000) }, 32_768, 'body');
 * // { field: 'body', message: 'is 40012 bytes as JSON, more than the 32768 a call may have (MAX_CALL_BYTES)' }
 */
export function callSizeIssue(call: unknown, limit: number, field: string): FieldIssue | undefined {
  const text = JSON.stringify(call) as string | undefined;
  // No character takes more than 3 bytes in UTF-8 per UTF-16 unit: most calls need no counting.
  if (text === undefined || text.length * 3 <= limit) return undefined;
  const bytes = Buffer.byteLength(text, 'utf8');
  if (bytes <= limit) return undefined;
  return {
    field,
    message: `is ${bytes} bytes as JSON, more than the ${limit} a call may have (MAX_CALL_BYTES)`,
  };
}

/**
 * Throws {@link InvalidInputError} naming `field` (by default the whole call, `(root)`) when
 * `call` is larger than `limit` bytes as JSON. `what` is what the message calls it (`track call`).
 */
export function checkCallSize(call: unknown, limit: number, what: string, field = '(root)'): void {
  const issue = callSizeIssue(call, limit, field);
  if (issue) throw new InvalidInputError([issue], what, CALL_SIZE_FIX);
}

/** Throws {@link InvalidInputError} naming `maxCallBytes` when it is out of {@link CALL_BYTES_BOUNDS}. */
export function checkMaxCallBytes(maxCallBytes: number): void {
  const { min, max } = CALL_BYTES_BOUNDS;
  if (Number.isInteger(maxCallBytes) && maxCallBytes >= min && maxCallBytes <= max) return;
  throw new InvalidInputError(
    [
      {
        field: 'maxCallBytes',
        message: `${maxCallBytes} is not a whole number of bytes from ${min} to ${max}`,
      },
    ],
    'createEngine options',
    `give one in range (MAX_CALL_BYTES), or leave it out for ${DEFAULT_MAX_CALL_BYTES}.`,
  );
}
