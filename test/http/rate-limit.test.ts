import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FakeClock } from '../../engine/index.js';
import { RequestRateLimiter, type RateDecision } from '../../engine/http/rate-limit.js';
import type { RedisConnection } from '../../engine/redis/connection.js';
import { onboarding } from '../fixtures/journeys/onboarding.js';
import { httpHarness, type HttpHarness } from '../support/http.js';
import { testRedis } from '../support/redis.js';

const MINUTE = 60_000;

describe('the per-key request limit', () => {
  let ctx: ReturnType<typeof testRedis>;
  let clock: FakeClock;
  // 10:00:15, a quarter into a one-minute window.
  beforeEach(() => {
    ctx = testRedis();
    clock = new FakeClock(Date.parse('2026-12-06T10:00:15Z'));
  });
  afterEach(() => ctx.cleanup());

  const limiter = (max: number, redis: RedisConnection = ctx.redis) =>
    new RequestRateLimiter(redis, `${ctx.prefix}:rate`, { max, windowMs: MINUTE }, clock);
  const takeMany = async (l: RequestRateLimiter, key: string, n: number): Promise<RateDecision[]> => {
    const decisions: RateDecision[] = [];
    for (let i = 0; i < n; i++) decisions.push(await l.take(key));
    return decisions;
  };
  /** The Redis counter of a key's current window. */
  const counter = (key: string) => `${ctx.prefix}:rate:${key}:${Math.floor(clock.now() / MINUTE)}`;
  const allowed = (decisions: RateDecision[]) => decisions.filter((d) => d.allowed).length;

  it('allows `max` requests per key and window, counts down, and names when the window ends', async () => {
    const l = limiter(3);
    const decisions = await takeMany(l, 'key-a', 4);
    expect(decisions.map((d) => [d.allowed, d.remaining])).toEqual([
      [true, 2],
      [true, 1],
      [true, 0],
      [false, 0],
    ]);
    expect(decisions[3]!.resetSeconds).toBe(45);
    expect(allowed(await takeMany(l, 'key-b', 3))).toBe(3); // another key has its own count
    clock.advance('45s'); // 10:01:00, the next window
    expect((await l.take('key-a')).allowed).toBe(true);
  });

  it('never lets a key past the limit across processes, and refuses at most a block per process early', async () => {
    const otherRedis = testRedis().redis;
    try {
      // max 1000: each process reserves 10 numbers at a time.
      const [a, b] = [limiter(1000), limiter(1000, otherRedis)];
      const fromA = allowed(await takeMany(a, 'key', 601));
      const fromB = allowed(await takeMany(b, 'key', 600));
      const moreFromA = allowed(await takeMany(a, 'key', 20));
      expect(fromA).toBe(601);
      const total = fromA + fromB + moreFromA;
      expect(total).toBeLessThanOrEqual(1000);
      expect(total).toBeGreaterThanOrEqual(1000 - 2 * 9);
    } finally {
      otherRedis.disconnect();
    }
  });

  it('asks Redis once per block, even for requests that arrive together', async () => {
    const l = limiter(5000); // blocks of 50
    const decisions = await Promise.all(Array.from({ length: 120 }, () => l.take('key')));
    expect(allowed(decisions)).toBe(120);
    expect(await ctx.redis.get(counter('key'))).toBe('150');
    // The counter outlives its window, so a process that reserves late still finds it.
    expect(await ctx.redis.pttl(counter('key'))).toBeGreaterThan(MINUTE);
  });

  it('stops asking Redis for a key once the limit has passed, until the window ends', async () => {
    const l = limiter(2);
    const other = limiter(2);
    await takeMany(other, 'key', 1); // another process used one
    expect(allowed(await takeMany(l, 'key', 2))).toBe(1);
    expect(await ctx.redis.get(counter('key'))).toBe('2');
    expect(allowed(await takeMany(l, 'key', 50))).toBe(0);
    expect(await ctx.redis.get(counter('key'))).toBe('2');
  });
});

describe('the API over its request limit', () => {
  let h: HttpHarness;
  afterEach(() => h.close());

  it('answers 429 with the error code, the limit headers and a Retry-After of the window left', async () => {
    h = await httpHarness({
      journeys: [onboarding],
      workers: false,
      rateLimit: { max: 2, windowMs: MINUTE },
    });
    h.clock.set(Date.parse('2026-12-06T10:00:20Z'));
    const get = () => h.app.inject({ url: '/v1/journeys', headers: h.auth });
    const first = await get();
    expect(first.statusCode).toBe(200);
    expect(first.headers['x-ratelimit-limit']).toBe('2');
    expect(first.headers['x-ratelimit-remaining']).toBe('1');
    expect(first.headers['x-ratelimit-reset']).toBe('40');
    await get();
    const refused = await get();
    expect(refused.statusCode).toBe(429);
    expect(refused.headers['retry-after']).toBe('40');
    expect(refused.json().error).toMatchObject({ code: 'CHORUS_RATE_LIMITED' });
    expect(refused.json().error.message).toMatch(/more than 2 requests.*retry after 40 s/);
    h.clock.set(Date.parse('2026-12-06T10:01:00Z'));
    expect((await get()).statusCode).toBe(200);
  });
});
