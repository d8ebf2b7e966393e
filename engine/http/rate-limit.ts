import type { Clock } from '../clock.js';
import type { RedisConnection } from '../redis/connection.js';
import { LuaScript } from '../store/lua-script.js';

export interface RateLimit {
  /** Requests one key may make per window. */
  max: number;
  windowMs: number;
}

/** The API's limit per key when none is given (`API_RATE_LIMIT`): 100 requests a second on average. */
export const DEFAULT_API_RATE_LIMIT: Readonly<RateLimit> = { max: 6000, windowMs: 60_000 };

/** What the limiter answers for one request. */
export interface RateDecision {
  allowed: boolean;
  limit: number;
  /** Requests left in the window, as far as this process knows. */
  remaining: number;
  /** Seconds until the window ends. */
  resetSeconds: number;
}

/**
 * Reserves `ARGV[1]` request numbers of one key's window; the key outlives its window by one
 * more, so a late process still finds the count. KEYS: counter. ARGV: count, key TTL ms.
 * Returns the last number reserved.
 */
const reserve = new LuaScript(`
local last = redis.call('INCRBY', KEYS[1], ARGV[1])
if last == tonumber(ARGV[1]) then redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return last
`);

/** The request numbers of one key's window this process holds: `next` to `last`, inclusive. */
interface Held {
  window: number;
  next: number;
  last: number;
  pending?: Promise<void>;
}

/** Above this many keys, those whose window has passed are dropped. */
const MAX_KEYS = 10_000;

/**
 * The per-key request limit of the API, shared by every API process through one Redis counter
 * per key and window. Windows are fixed and aligned to the clock (a 60 s window resets on the
 * minute), so every process agrees which one a request falls in.
 *
 * A process reserves request numbers in blocks (1% of the limit, at most 100) and answers
 * from its block without asking Redis; a number up to the limit is a request allowed. So no key
 * gets more than the limit in a window, whatever the number of processes, and a busy key costs
 * Redis one call per block rather than one per request. The price: numbers a process reserved
 * and did not use count too, so with several processes a key may be refused up to one block per
 * process early. Once a process has seen the limit passed it refuses the key until the window
 * ends without asking Redis again.
 */
export class RequestRateLimiter {
  readonly #held = new Map<string, Held>();
  readonly #block: number;

  constructor(
    readonly redis: RedisConnection,
    readonly keyPrefix: string,
    readonly limit: RateLimit,
    readonly clock: Clock,
  ) {
    this.#block = Math.max(1, Math.min(100, Math.floor(limit.max / 100)));
  }

  /** Takes one request number for `key`; synchronous while this process holds some. */
  take(key: string): RateDecision | Promise<RateDecision> {
    const now = this.clock.now();
    const window = Math.floor(now / this.limit.windowMs);
    let held = this.#held.get(key);
    if (held === undefined || held.window !== window) {
      if (this.#held.size >= MAX_KEYS) this.#forgetPast(window);
      held = { window, next: 1, last: 0 };
      this.#held.set(key, held);
    }
    // Numbers past the limit are never given back, so once the held ones pass it the answer is no.
    if (held.next <= held.last || held.last >= this.limit.max) return this.#decide(held, now);
    held.pending ??= this.#reserve(key, held).finally(() => (held.pending = undefined));
    return held.pending.then(() => this.take(key));
  }

  #decide(held: Held, now: number): RateDecision {
    const number = held.next <= held.last ? held.next++ : this.limit.max + 1;
    const windowEnds = (held.window + 1) * this.limit.windowMs;
    return {
      allowed: number <= this.limit.max,
      limit: this.limit.max,
      remaining: Math.max(0, this.limit.max - number),
      resetSeconds: Math.max(1, Math.ceil((windowEnds - now) / 1000)),
    };
  }

  async #reserve(key: string, held: Held): Promise<void> {
    const counter = `${this.keyPrefix}:${key}:${held.window}`;
    const last = Number(await reserve.run(this.redis, [counter], [this.#block, 2 * this.limit.windowMs]));
    held.next = last - this.#block + 1;
    held.last = last;
  }

  #forgetPast(window: number): void {
    for (const [key, held] of this.#held) if (held.window !== window) this.#held.delete(key);
    // Every key is in this window: forgetting them all only lets each reserve afresh.
    if (this.#held.size >= MAX_KEYS) this.#held.clear();
  }
}
