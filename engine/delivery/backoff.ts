/**
 * Exponential backoff with full jitter (a random wait between zero and the exponential cap), so
 * many sends failing together do not retry together. A provider's Retry-After is a floor.
 */
export function retryDelay(
  attemptsMade: number,
  options: { baseMs: number; maxMs: number; floorMs?: number; random?: () => number },
): number {
  const cap = Math.min(options.maxMs, options.baseMs * 2 ** Math.max(0, attemptsMade - 1));
  const jittered = Math.round((options.random ?? Math.random)() * cap);
  return Math.max(jittered, options.floorMs ?? 0);
}
