import { z } from 'zod';
import { ChorusError } from '../errors.js';
import { isPlainEmailAddress } from '../delivery/address.js';
import { ConsentTrait } from '../policy/consent-record.js';

const plainOrEmpty = (email: string) => email.trim() === '' || isPlainEmailAddress(email.trim());

/** Half of a character: a surrogate not paired with its other half (`u` reads a pair as one). */
const LONE_SURROGATE = /\p{Surrogate}/u;
/**
 * An id that goes into Redis keys and job ids. Redis takes them as UTF-8, which has no way to
 * write half a character (as a sender that cut an id inside an emoji sends it), so every half is
 * written as the same replacement character: two such ids would name one customer's keys, or one
 * message id's seen-marker, and a customer would read another's traits.
 */
const KeyId = (max: number) =>
  z
    .string()
    .min(1)
    .max(max)
    .refine(
      (id) => !LONE_SURROGATE.test(id),
      'must be whole characters: it holds half of one (a surrogate without its pair, as an id cut inside an emoji has)',
    );
export const UserId = KeyId(256);
export const MessageId = KeyId(200);
/**
 * An ISO 8601 date-time with its offset, no earlier than 1970: instants are stored as epoch
 * milliseconds, which are never negative.
 */
export const IsoInstant = z.iso
  .datetime({ offset: true, abort: true })
  .refine((value) => Date.parse(value) >= 0, 'must be an instant in 1970 or later');

const TIMESTAMP_FORMS = 'an ISO 8601 date-time with offset, or epoch milliseconds, from 1970 to 9999';
/**
 * ISO 8601 string or epoch milliseconds, as Segment libraries send them, no later than 9999, the
 * last year the ISO form can write, in epoch ms too: every time is shown as a date somewhere (a
 * consent answer's evidence, a provider report's day, a customer's events), and a number far past
 * any date cannot be.
 */
export const Timestamp = z
  .union(
    [IsoInstant, z.number().int().nonnegative().max(Date.parse('9999-12-31T23:59:59.999Z'), TIMESTAMP_FORMS)],
    {
      error: TIMESTAMP_FORMS,
    },
  )
  .optional();
const JsonObject = z.record(z.string(), z.unknown());

/** Segment `track`. */
export const TrackInput = z.object({
  userId: UserId,
  event: z.string().min(1).max(200),
  properties: JsonObject.default({}),
  messageId: MessageId.optional(),
  timestamp: Timestamp,
});
export type TrackInput = z.input<typeof TrackInput>;

/**
 * Traits, whose `consent` (recorded as consent, not kept as a trait) is checked with the call,
 * and whose `email`, the address email is sent to, must be one plain address (or empty or null).
 * `chorus simulate` reads the traits of its events file with it too, refusing what ingest would.
 */
export const IdentifyTraits = JsonObject.superRefine((traits, ctx) => {
  const email = traits.email;
  if (!(email === undefined || email === null || (typeof email === 'string' && plainOrEmpty(email))))
    ctx.addIssue({
      code: 'custom',
      path: ['email'],
      message:
        'must be one email address such as ada@example.com: no display name, spaces, line breaks, commas or second @',
    });
  // Null is no answer, as any trait sent as null is none (see ConsentTrait).
  if (traits.consent === undefined || traits.consent === null) return;
  const parsed = ConsentTrait.safeParse(traits.consent);
  for (const issue of parsed.error?.issues ?? [])
    ctx.addIssue({ code: 'custom', path: ['consent', ...issue.path], message: issue.message });
});

/** Segment `identify`. */
export const IdentifyInput = z.object({
  userId: UserId,
  traits: IdentifyTraits.default({}),
  messageId: MessageId.optional(),
  timestamp: Timestamp,
});
export type IdentifyInput = z.input<typeof IdentifyInput>;

/** Enters one customer into an API-triggered journey. */
export const TriggerInput = z.object({
  userId: UserId,
  data: JsonObject.default({}),
  messageId: MessageId.optional(),
  timestamp: Timestamp,
});
export type TriggerInput = z.input<typeof TriggerInput>;

export interface FieldIssue {
  field: string;
  message: string;
}

export class InvalidInputError extends ChorusError {
  constructor(
    readonly issues: readonly FieldIssue[],
    /** What was being read, e.g. `track call`: the message starts "Invalid <what>". */
    readonly what: string,
    /** How to fix it, when not by correcting the fields (a file that cannot be read). */
    readonly fix = 'correct the named fields.',
  ) {
    super(
      'CHORUS_INVALID_INPUT',
      `Invalid ${what}: ${issues.map((i) => `${i.field}: ${i.message}`).join('; ')}. To fix: ${fix}`,
    );
  }

  /** The same problems with each field renamed, e.g. to where it sits in an HTTP request. */
  relocated(field: (field: string) => string): InvalidInputError {
    return new InvalidInputError(
      this.issues.map((issue) => ({ ...issue, field: field(issue.field) })),
      this.what,
      this.fix,
    );
  }
}

/**
 * Parses outside input, or throws {@link InvalidInputError} naming every bad field, as a path
 * under `root` when given (`body.customer.id`), else as the bare path (`(root)` for the whole:
 * the input may be a library call's argument or a file, not a request body).
 */
export function parseInput<T extends z.ZodType>(
  schema: T,
  input: unknown,
  what: string,
  root?: string,
): z.output<T> {
  const parsed = schema.safeParse(input);
  if (parsed.success) return parsed.data;
  const fieldOf = (path: readonly PropertyKey[]) =>
    root === undefined ? path.join('.') || '(root)' : [root, ...path.map(String)].join('.');
  throw new InvalidInputError(
    parsed.error.issues.map((issue) => ({ field: fieldOf(issue.path), message: issue.message })),
    what,
  );
}

export function toEpochMs(timestamp: string | number | undefined, fallback: number): number {
  if (timestamp === undefined) return fallback;
  return typeof timestamp === 'number' ? timestamp : Date.parse(timestamp);
}
