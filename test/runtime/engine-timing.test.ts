import { describe, expect, it } from 'vitest';
import { EngineTimingError, scanKeys } from '../../engine/index.js';
import { onboardingEngine } from '../support/engine.js';
import { testRedis } from '../support/redis.js';

describe("the engine's timing options", () => {
  it('are refused, naming the option, when no journey wait could run with them', async () => {
    const ctx = testRedis();
    try {
      const refused = [
        // +inf due times: every wait parked in the timer wheel for ever.
        { timeScale: 0 },
        // Every wait fired at once.
        { timeScale: -1 },
        { timeScale: Number.NaN },
        { timeScale: Number.POSITIVE_INFINITY },
        // No sweep scheduled: no wheel timer promoted, ever.
        { sweepIntervalMs: 0 },
        { sweepIntervalMs: -60_000 },
        // Beyond a Node.js timer: the shard watch would read Redis every millisecond.
        { sweepIntervalMs: 3_000_000_000 },
        { sweepIntervalMs: 1.5 },
        { lockMs: 0 },
        { lockMs: 250.5 },
      ];
      for (const options of refused) {
        const option = Object.keys(options)[0];
        expect(() => onboardingEngine(ctx, undefined, options), JSON.stringify(options)).toThrow(
          expect.objectContaining({ code: 'CHORUS_ENGINE_TIMING_INVALID', option }),
        );
        expect(() => onboardingEngine(ctx, undefined, options)).toThrow(EngineTimingError);
      }
      // Thrown before a connection or a queue is opened: nothing was written.
      expect(await scanKeys(ctx.redis, `*${ctx.prefix}*`)).toEqual([]);
    } finally {
      await ctx.cleanup();
    }
  });

  it('takes the bounds the environment variables take', async () => {
    const ctx = testRedis();
    try {
      for (const options of [
        { timeScale: 1e9, sweepIntervalMs: 100, lockMs: 500 },
        { timeScale: 0.5, sweepIntervalMs: 2_147_483_647, lockMs: 600_000 },
      ]) {
        const engine = onboardingEngine(ctx, undefined, options);
        await engine.close();
      }
    } finally {
      await ctx.cleanup();
    }
  });
});
