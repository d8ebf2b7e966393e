import { afterEach, beforeEach } from 'vitest';
import { createEngine, type Engine } from '../../engine/index.js';
import { onboarding } from '../fixtures/journeys/onboarding.js';
import { testRedis } from './redis.js';

/**
 * An engine on the onboarding journey, with no workers started, under a key prefix of its own:
 * made before each test of the calling suite and closed, its keys deleted, after each.
 */
export function engineEachTest(): { readonly ctx: ReturnType<typeof testRedis>; readonly engine: Engine } {
  const current = {} as { ctx: ReturnType<typeof testRedis>; engine: Engine };
  beforeEach(() => {
    current.ctx = testRedis();
    current.engine = createEngine({
      redis: current.ctx.redis,
      prefix: current.ctx.prefix,
      journeys: [onboarding],
      messages: { has: () => true },
    });
  });
  afterEach(async () => {
    await current.engine.close();
    await current.ctx.cleanup();
  });
  return current;
}
