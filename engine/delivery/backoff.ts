/** The longest a provider's Retry-After holds a send back: an hour, beyond which a message goes stale. */
export const MAX_RETRY_AFTER_MS = 3_600_000;

/**
 * Exponential backoff with "equal jitter": half the exponential cap for certain, plus a random
 * part of the other half, so many sends failing together do not retry together. A provider's
 * Retry-After is a floor.
 *
 * The certain half matters: with full jitter (a random wait between zero and the cap) ten
 * attempts can all fall inside a short outage, and the send is given up. With a 1 s base and the
 * default 300 s cap, full jitter gave up about 1 send in 400 during a one-minute provider
 * outage and 1 in 18 during a two-minute one; equal jitter always waits at least 294 s in total
 * before the tenth attempt.
 *
 * Given the job's `attempts`, the wait before the last one is `maxMs`: doubling alone reaches only
 * 256 times the base by the tenth attempt, so a larger `maxMs` (DELIVERY_RETRY_MAX_MS) did
 * nothing and a send was given up after some eight minutes whatever it was set to.
 *
 * A Retry-After floor counts for at most {@link MAX_RETRY_AFTER_MS}: a provider or webhook
 * receiver answering `Retry-After: 31536000` would otherwise park the send for a year.
 */
export function retryDelay(
  attemptsMade: number,
  options: {
    baseMs: number;
    maxMs: number;
    /**
     * The job's attempts: when doubling from `baseMs` would not reach `maxMs` by the last of
     * them, the waits grow faster, so that the wait before the last attempt is `maxMs`.
     */
    attempts?: number;
    floorMs?: number;
    random?: () => number;
  },
): number {
  const { baseMs, maxMs, attempts } = options;
  const growth =
    attempts !== undefined && attempts > 2 ? Math.max(2, (maxMs / baseMs) ** (1 / (attempts - 2))) : 2;
  const cap = Math.min(maxMs, baseMs * growth ** Math.max(0, attemptsMade - 1));
  const jittered = Math.round(cap / 2 + (options.random ?? Math.random)() * (cap / 2));
  return Math.max(jittered, Math.min(options.floorMs ?? 0, MAX_RETRY_AFTER_MS));
}
