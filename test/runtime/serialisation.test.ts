import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEngine, type Engine } from '../../engine/index.js';
import { counter } from '../fixtures/journeys/counter.js';
import { testDelivery } from '../support/delivery.js';
import { eventually, testRedis } from '../support/redis.js';

describe('per-customer serialisation', () => {
  let ctx: ReturnType<typeof testRedis>;
  let engines: Engine[];
  let outbox: ReturnType<typeof testDelivery>;

  beforeAll(() => {
    ctx = testRedis();
    outbox = testDelivery(ctx.redis, ctx.prefix, [counter]);
    // Two engines with 50 concurrent jobs each: plenty of chances to apply one customer's events at once.
    engines = [0, 1].map(() =>
      createEngine({
        redis: ctx.redis,
        prefix: ctx.prefix,
        journeys: [counter],
        messages: outbox.messages,
        delivery: outbox.delivery,
        timeScale: 1_000,
      }),
    );
    for (const engine of engines) engine.startWorkers({ journeyConcurrency: 50 });
  });

  afterAll(async () => {
    await Promise.all(engines.map((e) => e.close()));
    await ctx.cleanup();
    outbox.cleanup();
  });

  it('applies 200 events fired at once for one customer one at a time, in arrival order', async () => {
    const engine = engines[0]!;
    await engine.track({ userId: 'busy', event: 'Start' });
    await Promise.all(
      Array.from({ length: 200 }, (_, i) =>
        engines[i % 2]!.track({ userId: 'busy', event: 'Step', properties: { n: i + 1 } }),
      ),
    );
    await engine.track({ userId: 'busy', event: 'Finish' });
    const customer = await eventually(async () => {
      const c = await engine.customer('busy');
      return c.instances[0]?.status === 'done' && c.messages.length === 2 ? c : undefined;
    });
    expect(customer.instances[0]).toMatchObject({ exitReason: 'done', context: { data: { count: 200 } } });
    expect(customer.deadLetters).toEqual([]);
  });

  it('keeps many customers independent while their events interleave', async () => {
    const ids = Array.from({ length: 40 }, (_, i) => `c${i}`);
    await Promise.all(ids.map((id) => engines[0]!.track({ userId: id, event: 'Start' })));
    for (let n = 1; n <= 10; n++) {
      await Promise.all(
        ids.map((id, i) => engines[(i + n) % 2]!.track({ userId: id, event: 'Step', properties: { n } })),
      );
    }
    await Promise.all(ids.map((id) => engines[1]!.track({ userId: id, event: 'Finish' })));
    for (const id of ids) {
      const customer = await eventually(async () => {
        const c = await engines[0]!.customer(id);
        return c.instances[0]?.status === 'done' && c.messages.length === 2 ? c : undefined;
      });
      expect(customer.instances[0]).toMatchObject({ exitReason: 'done', context: { data: { count: 10 } } });
    }
  });
});
