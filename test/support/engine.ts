import { afterEach, beforeEach } from 'vitest';
import { createEngine, type Engine, type EngineOptions, type RedisConnection } from '../../engine/index.js';
import { onboarding } from '../fixtures/journeys/onboarding.js';
import { testDelivery } from './delivery.js';
import { testRedis } from './redis.js';

/**
 * An engine on the onboarding journey under a key prefix of its own: made before each test of the
 * calling suite and closed, its keys deleted, after each. With `delivery`, it sends through the
 * project's templates to a temporary outbox; with `workers`, its workers run; `queueShards` splits
 * its queues.
 */
export function engineEachTest(
  options: { delivery?: boolean; workers?: boolean; queueShards?: number } = {},
): {
  readonly ctx: ReturnType<typeof testRedis>;
  readonly engine: Engine;
} {
  const current = {} as { ctx: ReturnType<typeof testRedis>; engine: Engine };
  let outbox: ReturnType<typeof testDelivery> | undefined;
  beforeEach(() => {
    current.ctx = testRedis();
    outbox = options.delivery ? testDelivery(current.ctx.redis, current.ctx.prefix, [onboarding]) : undefined;
    current.engine = onboardingEngine(current.ctx, outbox, {
      ...(options.queueShards === undefined ? {} : { queueShards: options.queueShards }),
    });
    if (options.workers) current.engine.startWorkers();
  });
  afterEach(async () => {
    await current.engine.close();
    outbox?.cleanup();
    await current.ctx.cleanup();
  });
  return current;
}

/**
 * An engine on the onboarding journey under `ctx`'s prefix, sending through `outbox` (a
 * testDelivery) when given, with `options` on top.
 */
export function onboardingEngine(
  ctx: { redis: RedisConnection; prefix: string },
  outbox: ReturnType<typeof testDelivery> | undefined,
  options: Partial<EngineOptions> = {},
): Engine {
  return createEngine({
    redis: ctx.redis,
    prefix: ctx.prefix,
    journeys: [onboarding],
    messages: outbox?.messages ?? { has: () => true },
    ...(outbox ? { delivery: outbox.delivery } : {}),
    ...options,
  });
}
