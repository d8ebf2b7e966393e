import { z } from 'zod';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import {
  createEngine,
  defineJourney,
  MISSING_JOURNEY_GRACE_MS,
  type Clock,
  type Engine,
} from '../../engine/index.js';
import { testDelivery } from '../support/delivery.js';
import { eventually, testRedis } from '../support/redis.js';

/** Entered through the API; waits, sending nothing. */
const promoVersion = (version: number) =>
  defineJourney({
    id: 'promo',
    version,
    trigger: { api: z.object({}) },
    machine: (j) => j.createMachine({ initial: 'waiting', states: { waiting: { tags: 'awareness' } } }),
  });
const promo = promoVersion(1);
const promoV2 = promoVersion(2);

describe('an entry into a journey the workers do not have', () => {
  const engines: Engine[] = [];
  const ctx = testRedis();
  const outbox = testDelivery(ctx.redis, ctx.prefix);
  const { messages, delivery } = outbox;
  const engine = (journeys: Parameters<typeof createEngine>[0]['journeys'], clock?: Clock) => {
    const created = createEngine({
      redis: ctx.redis,
      prefix: ctx.prefix,
      journeys,
      messages,
      delivery,
      ...(clock ? { clock } : {}),
    });
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
    return { queue };
  }

  it('leaves it for a worker that loads the journey, without spending attempts, the customer’s later events waiting behind it', async () => {
    const { queue } = await enterThenIdentify('ada');
    const without = engine([]);
    without.startWorkers();
    // Put back for a worker of a newer release: delayed, no attempt spent.
    const [held] = await eventually(async () => {
      const delayed = await queue.getJobs(['delayed']);
      return delayed.length > 0 ? delayed : undefined;
    });
    expect(held!.attemptsMade).toBe(0);
    expect(await without.customer('ada')).toMatchObject({ profile: {}, deadLetters: [] });
    await without.close();

    const deployed = engine([promo]);
    deployed.startWorkers();
    for (const job of await queue.getJobs(['delayed'])) await job.promote(); // not 15 s from now
    const customer = await eventually(async () => {
      const c = await deployed.customer('ada');
      return c.instances.length > 0 && c.pendingEvents === 0 ? c : undefined;
    });
    expect(customer.instances[0]).toMatchObject({ journeyId: 'promo', status: 'active' });
    expect(customer.profile).toEqual({ plan: 'pro' });
  });

  it('sets the entry aside once no worker has loaded the journey for an hour, and applies what came after', async () => {
    await enterThenIdentify('bo');
    const anHourOn = { now: () => Date.now() + MISSING_JOURNEY_GRACE_MS };
    const without = engine([], anHourOn);
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
        reason: expect.stringMatching(
          /^journey "promo" is not loaded by any worker that took it within 60 minutes: No journey "promo" is loaded/,
        ),
      }),
    ]);
  });

  it('leaves an entry checked against a newer version for a worker that loads it, then takes the latest it has', async () => {
    const api = engine([promo, promoV2]);
    await api.trigger('promo', { userId: 'cy' });
    await api.trigger('promo', { userId: 'di' });
    await api.settleIngest();
    const queue = api.queues.forCustomer('cy').journeys;
    const older = engine([promo]);
    older.startWorkers();
    // Both drain jobs put back (the sweep's repeatable job waits there too).
    const drains = async () => (await queue.getJobs(['delayed'])).filter((job) => job.name === 'drain');
    await eventually(async () => (await drains()).length === 2);
    expect((await older.customer('cy')).instances).toEqual([]);
    await older.close();

    // A worker of the newer release enters the customer into the version the API checked.
    const newer = engine([promo, promoV2]);
    newer.startWorkers();
    const [cyJob] = (await drains()).filter((job) => job.data.customerId === 'cy');
    await cyJob!.promote();
    const cy = await eventually(async () => (await newer.customer('cy')).instances[0]);
    expect(cy).toMatchObject({ journeyVersion: 2, status: 'active' });
    await newer.close();

    // An hour on with none of them left, an older worker enters it into the latest it loads.
    const hourOn = engine([promo], { now: () => Date.now() + MISSING_JOURNEY_GRACE_MS });
    hourOn.startWorkers();
    for (const job of await drains()) await job.promote();
    const di = await eventually(async () => (await hourOn.customer('di')).instances[0]);
    expect(di).toMatchObject({ journeyVersion: 1, status: 'active' });
  });
});
