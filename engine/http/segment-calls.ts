import { z } from 'zod';
import {
  IdentifyInput,
  IdentifyTraits,
  MessageId,
  Timestamp,
  TrackInput,
  UserId,
} from '../ingest/ingest-schema.js';
import { isTimeZone } from '../local-time.js';
import { orEmpty, orNone } from './null-fields.js';

/**
 * What Segment's libraries and CDPs send besides identified `identify` and `track` calls, so
 * that pointing one at Chorus works: calls of a visitor not yet identified (an `anonymousId`
 * and no `userId`), and `page`, `screen`, `group` and `alias` calls. Journeys follow identified
 * customers through their events, so these are accepted and ignored, one by one: a batch that
 * holds one is not refused whole, which would make the library retry, or drop, the identified
 * calls beside it.
 */
const AnonymousId = z.string().min(1).max(256);

/** The calls Chorus takes and ignores (see above). */
export const IGNORED_CALL_TYPES = ['page', 'screen', 'group', 'alias'] as const;
export type IgnoredCallType = (typeof IGNORED_CALL_TYPES)[number];

/**
 * Segment asks every call for a `userId` or an `anonymousId`. Checked alongside the other fields
 * (`when`), so a call missing several is told of all of them at once.
 */
type Anonymous = { userId?: unknown; anonymousId?: unknown };
const given = (id: unknown) => id !== undefined && id !== null && id !== '';
const hasSomeId = (call: Anonymous) => given(call.userId) || given(call.anonymousId);
const SOME_ID: { path: PropertyKey[]; message: string; when: (payload: { value: unknown }) => boolean } = {
  path: ['userId'],
  message:
    'required (or an anonymousId, for a visitor not yet identified: such a call is accepted and ignored)',
  // Run when neither id is there, even if other fields failed (zod skips a refine on an invalid object).
  when: ({ value }) => typeof value === 'object' && value !== null && !hasSomeId(value as Anonymous),
};

const ID_FORMS = `must be a string, or a whole number up to ${Number.MAX_SAFE_INTEGER} (send a larger one as a string)`;

/**
 * An id as Segment takes it: a string, or a whole number read as its decimal string, so `42` and
 * `"42"` are one customer. Segment's own event validation lets numbers through, and its Ruby and
 * PHP libraries send an integer id (`user.id`) as it is; refused, it cost the whole batch around it.
 * An empty string is no id, as those libraries' checks read it (`user_id || anonymous_id`): Ruby's
 * `current_user&.id.to_s` sends `""` for a visitor, beside the visitor's `anonymousId`.
 */
const segmentId = (id: z.ZodString) =>
  z.union([z.literal('').transform(() => null), id, z.number().int().transform(String)], {
    // A number past 2^53 has lost digits in JSON parsing already: it could name another customer.
    error: (issue) => (issue.code === 'invalid_union' ? ID_FORMS : undefined),
  });

// Segment's Python library sends both, the one it lacks as null.
const ids = { userId: segmentId(UserId).nullish(), anonymousId: segmentId(AnonymousId).nullish() };
/** When the library sent the call, by the same clock as its `timestamp`: see correctClockSkew. */
// Null is none, as Segment's Python library sends a field it lacks.
export const SentAt = Timestamp.nullable().describe(
  'when the library sent the call, by the clock of its timestamp: the timestamp is corrected by the difference to when it was received, as Segment does',
);
const isObject = (value: unknown) => typeof value === 'object' && value !== null && !Array.isArray(value);
/**
 * RudderStack's identify carries the traits in `context.traits` (its HTTP API and browser and app
 * SDKs there alone, its Node library in both places), as its spec reads them: taken as traits,
 * those of `traits` winning, and checked as they are. Only an identify's: a track's
 * `context.traits` (the traits a library remembers, sent with every call) are not a change.
 *
 * `context.timezone`, the device's zone that analytics.js and the mobile libraries send on every
 * call, is kept as the `deviceTimezone` trait when it names an IANA zone: the customer's clock
 * when no `timezone` trait gives one (see customerTimeZone).
 */
// Only what it holds of use is read: a context of another shape (PHP's empty `[]`), or a zone
// that is none, was never refused, and a call is not refused for it now.
const IdentifyContext = z
  .preprocess(
    (context) => {
      if (!isObject(context)) return undefined;
      const { traits, timezone } = context as { traits?: unknown; timezone?: unknown };
      const name = typeof timezone === 'string' ? timezone.trim() : undefined;
      const zone = isTimeZone(name) ? name : undefined;
      if (!isObject(traits) && zone === undefined) return undefined;
      return { ...(isObject(traits) ? { traits } : {}), ...(zone === undefined ? {} : { timezone: zone }) };
    },
    z.object({ traits: IdentifyTraits.optional(), timezone: z.string().optional() }).optional(),
  )
  .describe(
    'read for `traits` as RudderStack sends them (a trait of `traits` wins over one of `context.traits`), and for `timezone`, kept as the `deviceTimezone` trait',
  );
/**
 * When the call happened by the sender's clock, as RudderStack's libraries send it (its spec has
 * no `timestamp` from the sender): read when there is no `timestamp` (see correctClockSkew).
 */
const ORIGINAL_TIMESTAMP =
  "the call's time by the sender's clock, as RudderStack's libraries send it: read when there is no timestamp";
const OptionalTimestamp = orNone(Timestamp);
const trackShape = TrackInput.extend({
  ...ids,
  properties: orEmpty(TrackInput.shape.properties),
  messageId: orNone(MessageId.optional()),
  timestamp: OptionalTimestamp,
  sentAt: SentAt,
  originalTimestamp: orNone(Timestamp.describe(ORIGINAL_TIMESTAMP)),
});
const identifyShape = IdentifyInput.extend({
  ...ids,
  traits: orEmpty(IdentifyInput.shape.traits),
  messageId: orNone(MessageId.optional()),
  timestamp: orNone(Timestamp),
  sentAt: SentAt,
  // Bounded as `timestamp` is: it dates the consent trait.
  originalTimestamp: orNone(Timestamp.describe(ORIGINAL_TIMESTAMP)),
  context: IdentifyContext,
});
const ignoredShape = z.looseObject({
  ...ids,
  messageId: orNone(MessageId.optional()),
  timestamp: OptionalTimestamp,
});

export const SegmentTrack = trackShape.refine(hasSomeId, SOME_ID);
export const SegmentIdentify = identifyShape.refine(hasSomeId, SOME_ID);
/** A `page`, `screen`, `group` or `alias` call: checked for an id, else taken as it comes. */
export const IgnoredCall = ignoredShape.refine(hasSomeId, SOME_ID);

const BATCH_CALL_TYPES = ['track', 'identify', ...IGNORED_CALL_TYPES].join(', ');

export const BatchCall = z.discriminatedUnion(
  'type',
  [
    trackShape.extend({ type: z.literal('track') }).refine(hasSomeId, SOME_ID),
    identifyShape.extend({ type: z.literal('identify') }).refine(hasSomeId, SOME_ID),
    ignoredShape.extend({ type: z.enum(IGNORED_CALL_TYPES) }).refine(hasSomeId, SOME_ID),
  ],
  {
    // zod's own message names the options, not what was sent: say both.
    error: (issue) => {
      if (issue.code !== 'invalid_union') return undefined;
      const type = (issue.input as { type?: unknown } | undefined)?.type;
      return type === undefined
        ? `required: one of ${BATCH_CALL_TYPES}`
        : `${JSON.stringify(type)} is not a call type: expected one of ${BATCH_CALL_TYPES}`;
    },
  },
);

/**
 * An identify call as the engine takes it: `context.traits` under its `traits`, and
 * `context.timezone` as `deviceTimezone` under both (see IdentifyContext), without `context`.
 */
export function withContextTraits<T extends { traits: Record<string, unknown>; context?: unknown }>({
  context,
  ...call
}: T): Omit<T, 'context'> {
  const { traits, timezone } = (context ?? {}) as { traits?: Record<string, unknown>; timezone?: string };
  if (traits === undefined && timezone === undefined) return call;
  return {
    ...call,
    traits: { ...(timezone === undefined ? {} : { deviceTimezone: timezone }), ...traits, ...call.traits },
  };
}

/** The answer to a call taken and ignored, with why. */
export const Ignored = z.object({
  ignored: z.literal(true).describe('accepted and not stored: journeys follow identified customers'),
  reason: z.string(),
});
export type Ignored = z.infer<typeof Ignored>;

export const ANONYMOUS: Ignored = {
  ignored: true,
  reason: 'no userId: a visitor not yet identified is followed from their first call with one',
};

export function ignoredCall(type: IgnoredCallType): Ignored {
  return { ignored: true, reason: `Segment ${type} calls are not used by journeys` };
}
