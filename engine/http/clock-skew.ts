import { toEpochMs } from '../ingest/ingest-schema.js';

/** The latest instant a corrected time may name: the last an ISO 8601 date-time can write. */
const LATEST = Date.parse('9999-12-31T23:59:59.999Z');

/**
 * A Segment call's `timestamp` corrected for the sender's clock, as Segment corrects it: a
 * library stamps each call and, when it posts them, `sentAt`, both by the device's clock, so the
 * call happened `sentAt - timestamp` before the request was received. A phone whose clock runs
 * an hour fast would otherwise date its customers' orders, and their consent answers, an hour
 * ahead. `sentAt` is the call's own, else its batch's; a call without both is left as it is.
 * A call without `timestamp` is stamped by its `originalTimestamp`, as RudderStack's libraries
 * stamp theirs (its spec leaves `timestamp` to the server): dated by the time it arrived
 * instead, an order queued on a phone overnight would count as one made in the morning.
 * Returns the call without `sentAt` and `originalTimestamp`.
 *
 * @example
 * correctClockSkew({ timestamp: '2026-11-23T11:00:00Z', sentAt: '2026-11-23T11:00:05Z' }, Date.parse('2026-11-23T10:00:05Z'));
 * // { timestamp: Date.parse('2026-11-23T10:00:00Z') }
 */
export function correctClockSkew<
  T extends {
    timestamp?: string | number | undefined;
    originalTimestamp?: string | number | undefined;
    sentAt?: string | number | null | undefined;
  },
>(
  call: T,
  receivedAt: number,
  batchSentAt?: string | number | null,
): Omit<T, 'sentAt' | 'originalTimestamp'> {
  const { sentAt: ownSentAt, originalTimestamp, ...rest } = call;
  const timestamp = call.timestamp ?? originalTimestamp;
  const sentAt = ownSentAt ?? batchSentAt;
  if (timestamp === undefined) return rest;
  if (sentAt === undefined || sentAt === null) return { ...rest, timestamp };
  const corrected = toEpochMs(timestamp, receivedAt) + (receivedAt - toEpochMs(sentAt, receivedAt));
  return { ...rest, timestamp: Math.min(LATEST, Math.max(0, corrected)) };
}
