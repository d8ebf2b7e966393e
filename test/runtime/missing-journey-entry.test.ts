import { z } from 'zod';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { createEngine, defineJourney, MISSING_JOURNEY_RETRIES, type Engine } from '../../engine/index.js';
import { testDelivery } from '../support/delivery.js';
import { eventually, testRedis } from '../support/redis.js';

/** Entered through the API; waits, sending nothing. */
const promo = defineJourney({
  id: 'promo',
  version: 1,
  trigger: { api: z.object({}) },
  machine: (j) => j.createMachine({ initial: 'waiting', states: { waiting: { tags: 'awareness' } } }),
});

describe('an entry into a journey the workers do not have', () => {
  const engines: Engine[] = [];
  const ctx = testRedis();
  const outbox = testDelivery(ctx.redis, ctx.prefix);
  const { messages, delivery } = outbox;
  const engine = (journeys: Parameters<typeof createEngine>[0]['journeys']) => {
    const created = createEngine({ redis: ctx.redis, prefix: ctx.prefix, journeys, messages, delivery });
    engines.push(created);
    return created;
  };

  afterEach(async () => {
    for (const e of engines.splice(0)) await e.close();
  });

  afterAll(async () => {
    outbox.cleanup();
    await ctx.cleanup();
  });

  /** Through an API that has `promo`: the entry, then a trait behind it in the customer's inbox. */
  async function enterThenIdentify(customerId: string) {
    const api = engine([promo]);
    await api.trigger('promo', { userId: customerId });
    await api.identify({ userId: customerId, traits: { plan: 'pro' } });
    await api.settleIngest();
    const queue = api.queues.forCustomer(customerId).journeys;
    // A drain job per event; the first to take the customer's lease drains both.
    const jobIds = (await queue.getJobs(['wait'])).map((job) => job.id!);
    return { queue, jobIds };
  }

  it('waits for the journey to be deployed, keeping the customer’s later events in order behind it', async () => {
    const { queue } = await enterThenIdentify('ada');
    const without = engine([]);
    without.startWorkers();
    await eventually(async () => (await queue.getJobs(['delayed'])).some((job) => job.attemptsMade >= 1));
    expect(await without.customer('ada')).toMatchObject({ profile: {}, deadLetters: [] });
    await without.close();

    const deployed = engine([promo]);
    deployed.startWorkers();
    const customer = await eventually(async () => {
      const c = await deployed.customer('ada');
      return c.instances.length > 0 && c.pendingEvents === 0 ? c : undefined;
    });
    expect(customer.instances[0]).toMatchObject({ journeyId: 'promo', status: 'active' });
    expect(customer.profile).toEqual({ plan: 'pro' });
  });

  it(`dead-letters the entry once its job has failed ${MISSING_JOURNEY_RETRIES} times, and applies what came after`, async () => {
    const { queue, jobIds } = await enterThenIdentify('bo');
    // As after the retries: BullMQ keeps a job's failed attempts in the hash field `atm`.
    for (const jobId of jobIds) await ctx.redis.hset(queue.toKey(jobId), 'atm', MISSING_JOURNEY_RETRIES);
    const without = engine([]);
    without.startWorkers();
    const customer = await eventually(async () => {
      const c = await without.customer('bo');
      return c.pendingEvents === 0 ? c : undefined;
    });
    expect(customer.profile).toEqual({ plan: 'pro' });
    expect(customer.instances).toEqual([]);
    expect(customer.deadLetters).toEqual([
      expect.objectContaining({
        event: expect.stringContaining('"journeyId":"promo"'),
        reason: expect.stringMatching(/^journey "promo" is not loaded: No journey "promo" is loaded/),
      }),
    ]);
  });
});
