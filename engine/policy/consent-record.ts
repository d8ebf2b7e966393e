import { z } from 'zod';
import { ConsentChannel, Topic } from './topic.js';

/**
 * The customer's answer for one channel and topic, with its evidence: when it was given, where
 * (a form, an API call, a confirmation link) and which wording they agreed to. `pending`: a
 * double opt-in grant waiting for its confirmation link to be followed.
 */
export const ConsentRecord = z.object({
  channel: ConsentChannel,
  topic: Topic,
  state: z.enum(['granted', 'denied', 'pending']),
  /** Epoch ms. */
  at: z.number().int().nonnegative(),
  source: z.string().min(1).max(200),
  textVersion: z.string().min(1).max(200).optional(),
});
export type ConsentRecord = z.infer<typeof ConsentRecord>;

/** The source Chorus records when a customer follows a double opt-in link. */
export const CONFIRMATION_SOURCE = 'double opt-in confirmation';
/** The source Chorus records when a customer unsubscribes with a message's one-click link. */
export const ONE_CLICK_UNSUBSCRIBE_SOURCE = 'one-click unsubscribe';
/**
 * What the source of a record a text to the Twilio number made starts with, the keyword after it:
 * `twilio inbound STOP`, `twilio inbound START` (see sms-reply-consent.ts).
 */
export const TWILIO_INBOUND_SOURCE_PREFIX = 'twilio inbound ';
const ENGINE_SOURCES = new Set([CONFIRMATION_SOURCE, ONE_CLICK_UNSUBSCRIBE_SOURCE]);
const isEngineSource = (source: string) => {
  const given = source.trim().toLowerCase();
  return ENGINE_SOURCES.has(given) || given.startsWith(TWILIO_INBOUND_SOURCE_PREFIX);
};

/**
 * Where a caller says an answer was given. The sources Chorus writes itself are refused: a record
 * is the evidence of consent, and one given through the API must not read as a customer's own
 * confirmation of a link, or their own STOP.
 */
export const GivenConsentSource = z
  .string()
  .min(1)
  .max(200)
  .refine((source) => !isEngineSource(source), {
    error: (issue) =>
      `"${String(issue.input)}" is recorded only by Chorus itself, when a customer follows a link or texts a keyword; name where this answer was given (a form, a call centre)`,
  });

/**
 * An optional field sent as null is none, as in ingest: a serialiser that writes every field of
 * a class (.NET's by default, Jackson's) sends null for one the call lacks.
 */
const orNone = <T extends z.ZodType>(field: T) =>
  field
    .nullish()
    .transform((value) => (value === null ? undefined : value))
    .optional();

/** One answer as a caller gives it: a boolean, or a boolean with its evidence. */
export const ConsentAnswer = z.union(
  [
    z.boolean(),
    z.object({
      granted: z.boolean(),
      source: orNone(GivenConsentSource),
      textVersion: orNone(z.string().min(1).max(200)),
    }),
  ],
  { error: 'true, false, or { granted, source?, textVersion? }' },
);
export type ConsentAnswer = z.infer<typeof ConsentAnswer>;

/**
 * The entries of a record but those sent as null: a channel or topic answered null is not
 * answered, as a trait set to null is none (consent is withdrawn with `false`, never forgotten).
 */
const withoutNulls = <K extends string, V>(record: Partial<Record<K, V | null>>) =>
  Object.fromEntries(Object.entries(record).filter(([, value]) => value !== null)) as Partial<Record<K, V>>;

/**
 * The `consent` trait of an identify call: `{ <channel>: { <topic>: answer } }`, e.g.
 * `{ email: { marketing: true }, sms: { marketing: { granted: true, textVersion: 'sms-v2' } } }`.
 */
export const ConsentTrait = z
  .partialRecord(
    ConsentChannel,
    z.partialRecord(Topic, ConsentAnswer.nullable()).transform(withoutNulls).nullable(),
  )
  .transform(withoutNulls);
export type ConsentTrait = z.infer<typeof ConsentTrait>;
