/** How often the API logs the 503s of one kind of Redis outage at most. */
export const OUTAGE_LOG_INTERVAL_MS = 10_000;

/**
 * The ways a request is refused because Redis is out: `redis-away`, refused before it is handled
 * (Redis was not connected); `redis-lost`, its connection failed or timed out while it was handled.
 */
export type OutageKind = 'redis-away' | 'redis-lost';

export interface OutageLogOptions {
  /** The time in ms, for the interval (real time, not a journey clock). Default: Date.now. */
  now?: () => number;
  /** Default OUTAGE_LOG_INTERVAL_MS. */
  intervalMs?: number;
}

/**
 * Which 503s of an outage are logged: the first of each kind, then at most one per interval,
 * which says how many of its kind went unlogged since the line before. During an outage every
 * request is refused alike, and a line (with a stack) for each one buried everything else in the
 * log; the refusals are still counted one by one in /metrics.
 *
 * @example
 * const outages = new OutageLog();
 * const told = outages.take('redis-away');
 * if (told) log.warn({ unloggedSince: told.unloggedSince }, 'Redis is away');
 */
export class OutageLog {
  readonly #now: () => number;
  readonly #intervalMs: number;
  readonly #kinds = new Map<OutageKind, { loggedAt: number; unlogged: number }>();

  constructor(options: OutageLogOptions = {}) {
    this.#now = options.now ?? Date.now;
    this.#intervalMs = options.intervalMs ?? OUTAGE_LOG_INTERVAL_MS;
  }

  /**
   * Whether to log a refusal of `kind` now: `undefined` if not (it is counted for the next line),
   * else how many went unlogged since the last line (0 on the first).
   */
  take(kind: OutageKind): { unloggedSince: number } | undefined {
    const now = this.#now();
    const last = this.#kinds.get(kind);
    if (last && now - last.loggedAt < this.#intervalMs) {
      last.unlogged += 1;
      return undefined;
    }
    this.#kinds.set(kind, { loggedAt: now, unlogged: 0 });
    return { unloggedSince: last?.unlogged ?? 0 };
  }
}
