import { z } from 'zod';
import { strictObject } from '../strict-object.js';
import { Objective } from '../analytics/objective.js';
import { DURATION_FORMS, parseDuration } from '../duration.js';

/** Journey ids appear in Redis keys, BullMQ job ids and UTM parameters: keep them to a safe alphabet. */
export const JourneyId = z
  .string()
  .regex(
    /^[a-z0-9][a-z0-9-]{0,63}$/,
    'lowercase letters, digits and dashes, starting with a letter or digit',
  );

export const ReentryPolicy = z.enum(['never', 'after-exit', 'always']);
export type ReentryPolicy = z.infer<typeof ReentryPolicy>;

export const CHANNELS = ['email', 'sms', 'push', 'in-app', 'webhook'] as const;
export const Channel = z.enum(CHANNELS);
export type Channel = z.infer<typeof Channel>;

const EventName = z.string().min(1).max(200);

/** A zod schema, which journeys give for what they read; anything else is refused with what is expected. */
const Schema = z.custom<z.ZodType>((v) => v instanceof z.ZodType, {
  message: 'expected a zod schema, such as z.object({ plan: z.string() })',
});

/** The metadata half of a journey definition, checked when the journey is defined. */
export const JourneyMeta = strictObject({
  id: JourneyId,
  version: z.number().int().positive(),
  description: z.string().optional(),
  trigger: z.union(
    [strictObject({ event: EventName, properties: Schema.optional() }), strictObject({ api: Schema })],
    {
      error: () =>
        'expected { event: "Signed Up", properties?: a zod schema } (a track event) or { api: a zod schema } (the trigger API)',
    },
  ),
  profile: Schema.optional(),
  events: z.record(z.string(), Schema).optional(),
  data: Schema.optional(),
  goal: strictObject({
    event: EventName,
    exit: z.boolean().default(false),
    /** How far back a conversion credits the messages before it (attribution). */
    window: z
      .union([z.string(), z.number()])
      .default('7d')
      .transform((value, ctx) => {
        // The issues say what is wrong and how it is written, without a "To fix:" of their
        // own: defineJourney's message ends with the one fix for every field it names.
        let ms: number;
        try {
          ms = parseDuration(value);
        } catch {
          ctx.addIssue({
            code: 'custom',
            message: `cannot read ${JSON.stringify(value)} as a duration (write ${DURATION_FORMS})`,
          });
          return z.NEVER;
        }
        // Attribution credits messages sent up to this long before a conversion; with no
        // window at all there is nothing to credit, and the journey's report could not be built.
        if (ms === 0) {
          ctx.addIssue({
            code: 'custom',
            message: 'must be longer than 0 (how far back a conversion credits messages, such as "7d")',
          });
          return z.NEVER;
        }
        return ms;
      }),
  }).optional(),
  /** A SMART goal for the journey: metric, target, period; reports show actual against it. */
  objective: Objective.optional(),
  exitOn: z.array(EventName).default([]),
  reentry: ReentryPolicy.default('after-exit'),
  machine: z.custom<unknown>((v) => typeof v === 'function', {
    message: 'expected a function, (j) => j.createMachine({ … })',
  }),
});
export type JourneyMeta = z.infer<typeof JourneyMeta>;
