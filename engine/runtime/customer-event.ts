import { z } from 'zod';

/** The version of the inbox events this code writes, and the newest it reads. */
export const CUSTOMER_EVENT_VERSION = 1 as const;

/** Properties and traits are JSON objects; keys such as `__proto__` are kept as plain data. */
const JsonObject = z.record(z.string(), z.unknown());

/**
 * Everything that can happen to a customer, as it waits in the customer's inbox. Versioned (`v`)
 * because inboxes outlive deployments.
 */
export const CustomerEvent = z.discriminatedUnion('kind', [
  z.object({
    v: z.literal(CUSTOMER_EVENT_VERSION),
    kind: z.literal('track'),
    id: z.string(),
    customerId: z.string(),
    name: z.string(),
    properties: JsonObject,
    timestamp: z.number(),
  }),
  z.object({
    v: z.literal(CUSTOMER_EVENT_VERSION),
    kind: z.literal('identify'),
    id: z.string(),
    customerId: z.string(),
    traits: JsonObject,
    timestamp: z.number(),
  }),
  z.object({
    v: z.literal(CUSTOMER_EVENT_VERSION),
    kind: z.literal('enter'),
    id: z.string(),
    customerId: z.string(),
    journeyId: z.string(),
    data: JsonObject,
    timestamp: z.number(),
    /**
     * When this process accepted it (epoch ms by its clock; `timestamp` is the client's): how long
     * it may wait for a worker that loads its journey (see MISSING_JOURNEY_GRACE_MS). Absent from
     * entries accepted before it was recorded.
     */
    receivedAt: z.number().optional(),
    /**
     * The journey's latest version where it was accepted, whose trigger schema checked `data`: a
     * worker whose latest is older leaves the entry to a newer one (within the same grace).
     */
    journeyVersion: z.number().optional(),
  }),
  z.object({
    v: z.literal(CUSTOMER_EVENT_VERSION),
    kind: z.literal('timer'),
    /** The BullMQ job id of the timer, which is also how a stale timer is recognised. */
    id: z.string(),
    customerId: z.string(),
    instanceId: z.string(),
    /**
     * Absent from timers made since timer jobs v2 (see timer-job.ts): the send id is then the
     * one the instance's `timers` maps to `id`, and the event type is the send id.
     */
    sendId: z.string().optional(),
    eventType: z.string().optional(),
    timestamp: z.number(),
  }),
]);
export type CustomerEvent = z.infer<typeof CustomerEvent>;
export type TrackEvent = Extract<CustomerEvent, { kind: 'track' }>;
export type TimerEvent = Extract<CustomerEvent, { kind: 'timer' }>;
