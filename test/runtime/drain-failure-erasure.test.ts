import { describe, expect, it } from 'vitest';
import { drainJobId, type Engine } from '../../engine/index.js';
import { instanceField } from '../../engine/store/customer-keys.js';
import { engineEachTest } from '../support/engine.js';
import { eventually } from '../support/redis.js';

describe('an erasure after a drain job of the customer failed', () => {
  const h = engineEachTest({ workers: true, delivery: true });

  /** The customer's drain job fails (the version of their journey is not loaded) and waits to retry. */
  async function failedDrain(engine: Engine, redis: typeof h.ctx.redis) {
    await engine.identify({ userId: 'ada@example.com', traits: { email: 'ada@example.com' } });
    await engine.track({ userId: 'ada@example.com', event: 'Signed Up' });
    const [instance] = await eventually(async () => {
      const found = (await engine.customer('ada@example.com')).instances;
      return found.length === 1 && found;
    });
    const keys = engine.store.keys('ada@example.com');
    const field = instanceField(instance!.id);
    const stored = JSON.parse((await redis.hget(keys.state, field))!) as Record<string, unknown>;
    await redis.hset(keys.state, field, JSON.stringify({ ...stored, journeyVersion: 0 }));
    const { eventId } = await engine.track({ userId: 'ada@example.com', event: 'Product Viewed' });
    const queue = engine.queues.journeys;
    const drainId = drainJobId('ada@example.com', eventId);
    await eventually(async () => ((await queue.getJob(drainId))?.attemptsMade ?? 0) >= 1);
    await queue.pause();
    return { keys, queue, drainId };
  }

  it('does not wait for the lease the failed run kept, as no step of the customer is running', async () => {
    const { engine } = h;
    const { keys, queue, drainId } = await failedDrain(engine, h.ctx.redis);
    // The failed run kept the lease, so that its retry goes first; its job is not running.
    expect(await h.ctx.redis.get(keys.lease)).toBe(drainId);
    expect(await queue.getJobState(drainId)).not.toBe('active');

    const started = Date.now();
    await engine.erase('ada@example.com');
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(await queue.getJob(drainId)).toBeUndefined();
    expect(await h.ctx.redis.exists(keys.state, keys.lease)).toBe(0);
  });

  it('removes that job, which names the customer and waits to retry for days or stays a week failed', async () => {
    const { engine } = h;
    await engine.identify({ userId: 'ada@example.com', traits: { email: 'ada@example.com' } });
    await engine.track({ userId: 'ada@example.com', event: 'Signed Up' });
    const [instance] = await eventually(async () => {
      const found = (await engine.customer('ada@example.com')).instances;
      return found.length === 1 && found;
    });
    // The customer is on a journey version no worker loads any more (a rollback after a deploy):
    // applying their next event fails, and its drain job retries, keeping the event.
    const keys = engine.store.keys('ada@example.com');
    const field = instanceField(instance!.id);
    const stored = JSON.parse((await h.ctx.redis.hget(keys.state, field))!) as Record<string, unknown>;
    await h.ctx.redis.hset(keys.state, field, JSON.stringify({ ...stored, journeyVersion: 0 }));
    const { eventId } = await engine.track({
      userId: 'ada@example.com',
      event: 'Product Viewed',
      properties: { name: 'Sencha' },
    });
    const queue = engine.queues.journeys;
    const drainId = drainJobId('ada@example.com', eventId);
    await eventually(async () => ((await queue.getJob(drainId))?.attemptsMade ?? 0) >= 1);
    // Held where it is, waiting to retry, while the erasure runs; the lease the failed run kept
    // (so that its retry goes first) expires meanwhile, as it does between the later, longer waits.
    await queue.pause();
    await h.ctx.redis.del(keys.lease);

    await engine.erase('ada@example.com');
    const left = await queue.getJobs(['waiting', 'prioritized', 'delayed', 'failed', 'active', 'completed']);
    expect(left.filter((job) => JSON.stringify(job.data).includes('ada@example.com'))).toEqual([]);
    expect(await queue.getJob(drainId)).toBeUndefined();
  });
});
