import { z } from 'zod';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  createEngine,
  defineJourney,
  loadedJourneysKey,
  missingJourneysKey,
  MISSING_JOURNEY_GRACE_MS,
  readJourneyCounts,
  type Clock,
  type Engine,
  type Journey,
} from '../../engine/index.js';
import { testDelivery } from '../support/delivery.js';
import { eventually, testRedis } from '../support/redis.js';

/** The journey a release drops from journeys/: a welcome at once, a nudge three days on. */
const flashSale = defineJourney({
  id: 'flash-sale',
  version: 2,
  trigger: { event: 'Sale Viewed' },
  profile: z.object({ email: z.string() }).loose(),
  machine: (j) =>
    j.createMachine({
      initial: 'welcomed',
      states: {
        welcomed: { tags: 'awareness', entry: j.send('welcome', ['email']), after: { '3d': 'nudged' } },
        nudged: { tags: 'decision', type: 'final', entry: j.send('nudge', ['email']) },
      },
    }),
});

/** A journey every release keeps: a customer's next event, in another journey than the removed one. */
const passwordReset = defineJourney({
  id: 'password-reset',
  version: 1,
  trigger: { event: 'Password Reset Requested' },
  machine: (j) =>
    j.createMachine({ initial: 'asked', states: { asked: { tags: 'awareness', type: 'final' } } }),
});

const MINUTE = 60_000;
const ahead = (ms: number): Clock => ({ now: () => Date.now() + ms });

describe('a journey removed from the code while customers are in it', () => {
  let ctx: ReturnType<typeof testRedis>;
  let outbox: ReturnType<typeof testDelivery>;
  const engines: Engine[] = [];

  beforeEach(() => {
    ctx = testRedis();
    outbox = testDelivery(ctx.redis, ctx.prefix, [flashSale, passwordReset]);
  });

  afterEach(async () => {
    for (const engine of engines.splice(0)) await engine.close();
    outbox.cleanup();
    await ctx.cleanup();
  });

  function engine(journeys: readonly Journey[], clock?: Clock): Engine {
    const created = createEngine({
      redis: ctx.redis,
      prefix: ctx.prefix,
      journeys,
      messages: outbox.messages,
      delivery: outbox.delivery,
      ...(clock ? { clock } : {}),
    });
    engines.push(created);
    return created;
  }

  async function closeLast(): Promise<void> {
    await engines.pop()!.close();
  }

  /**
   * The release that still has the journey enters the customer (its welcome left queued, as in a
   * backlog) and stops; then the customer asks for a password reset, which the release without it
   * is to apply.
   */
  async function enteredByTheReleaseBefore(userId: string): Promise<void> {
    const before = engine([flashSale, passwordReset]);
    before.startWorkers({ deliveries: false });
    await before.identify({ userId, traits: { email: `${userId}@example.com` } });
    await before.track({ userId, event: 'Sale Viewed' });
    await eventually(async () => (await before.queues.deliveries.email.getWaitingCount()) === 1);
    await closeLast();
  }

  /** The release without the journey, its clock `clockAhead` on, takes the customer's next event. */
  async function nextEventOnTheReleaseWithout(userId: string, clockAhead: number): Promise<Engine> {
    const without = engine([passwordReset], ahead(clockAhead));
    without.startWorkers({ deliveries: false });
    await without.track({ userId, event: 'Password Reset Requested', messageId: `reset-${userId}` });
    return without;
  }

  /** Waits until the customer's drain job was put back for a newer worker, and says what stands. */
  async function leftForAnotherWorker(without: Engine, userId: string) {
    const queue = without.queues.forCustomer(userId).journeys;
    await eventually(async () => {
      const delayed = await queue.getJobs(['delayed']);
      return delayed.some((job) => job.name === 'drain' && job.attemptsStarted > 0);
    });
    return without.customer(userId);
  }

  it('leaves the customer for a worker that loads it while some process loaded it within the hour', async () => {
    await enteredByTheReleaseBefore('ada');
    const without = await nextEventOnTheReleaseWithout('ada', 59 * MINUTE);
    const ada = await leftForAnotherWorker(without, 'ada');
    expect(ada.pendingEvents).toBe(1);
    expect(ada.deadLetters).toEqual([]);
    expect(ada.instances).toEqual([expect.objectContaining({ journeyId: 'flash-sale', status: 'active' })]);
  });

  it('ends the instance once no process loaded the journey for an hour, and applies the customer’s next event', async () => {
    await enteredByTheReleaseBefore('bo');
    const without = await nextEventOnTheReleaseWithout('bo', 61 * MINUTE);
    const bo = await eventually(async () => {
      const customer = await without.customer('bo');
      return customer.pendingEvents === 0 ? customer : undefined;
    });
    expect(bo.deadLetters).toEqual([]);
    const byJourney = Object.fromEntries(bo.instances.map((instance) => [instance.journeyId, instance]));
    expect(byJourney['flash-sale']).toMatchObject({
      status: 'done',
      exitReason: 'journey-removed',
      timers: {},
    });
    expect(byJourney['password-reset']).toMatchObject({ status: 'done' });

    // Counted as any exit: the journey has no customer left in it.
    const [counts] = await readJourneyCounts(ctx.redis, ctx.prefix, 'flash-sale');
    expect(counts).toMatchObject({ version: 2, entered: 1, active: 0, exits: { 'journey-removed': 1 } });

    // The welcome that waited in its queue is not sent.
    without.startWorkers({ journeys: false });
    await eventually(async () => (await without.customer('bo')).messages[0]?.status === 'skipped');
    const [welcome] = (await without.customer('bo')).messages;
    expect(welcome).toMatchObject({ message: 'welcome', status: 'skipped', rule: 'journey-exit' });
    expect(welcome!.reason).toContain('removed');
  });

  it('does not end the instance while another process still loads the journey', async () => {
    await enteredByTheReleaseBefore('cy');
    // An hour on, a process of the release before (an API, a worker busy elsewhere) still runs.
    const still = engine([flashSale, passwordReset], ahead(61 * MINUTE));
    await still.loadedJourneys.record();
    const without = await nextEventOnTheReleaseWithout('cy', 61 * MINUTE);
    const cy = await leftForAnotherWorker(without, 'cy');
    expect(cy.pendingEvents).toBe(1);
    expect(cy.instances).toEqual([expect.objectContaining({ journeyId: 'flash-sale', status: 'active' })]);
  });

  it('counts a journey no process ever recorded from when a worker first met it', async () => {
    await enteredByTheReleaseBefore('di');
    // As after upgrading from a release that recorded nothing.
    await ctx.redis.del(loadedJourneysKey(ctx.prefix));
    const first = await nextEventOnTheReleaseWithout('di', 0);
    const di = await leftForAnotherWorker(first, 'di');
    expect(di.instances).toEqual([expect.objectContaining({ journeyId: 'flash-sale', status: 'active' })]);
    const noticed = Number(await ctx.redis.hget(missingJourneysKey(ctx.prefix), 'flash-sale'));
    expect(Math.abs(noticed - Date.now())).toBeLessThan(MINUTE);
    await closeLast();

    const hourOn = engine([passwordReset], ahead(MISSING_JOURNEY_GRACE_MS + MINUTE));
    hourOn.startWorkers({ deliveries: false });
    for (const job of await hourOn.queues.forCustomer('di').journeys.getJobs(['delayed']))
      if (job.name === 'drain') await job.promote(); // not 15 s from now
    const ended = await eventually(async () => {
      const customer = await hourOn.customer('di');
      return customer.pendingEvents === 0 ? customer : undefined;
    });
    expect(ended.instances.map((instance) => [instance.journeyId, instance.exitReason])).toEqual(
      expect.arrayContaining([
        ['flash-sale', 'journey-removed'],
        ['password-reset', expect.anything()],
      ]),
    );
  });

  it('records what a process loads well within the hour, however long its sweep interval', () => {
    const daily = createEngine({
      redis: ctx.redis,
      prefix: ctx.prefix,
      journeys: [passwordReset],
      messages: outbox.messages,
      sweepIntervalMs: 86_400_000,
    });
    expect(daily.loadedJourneys.intervalMs).toBeLessThanOrEqual(MISSING_JOURNEY_GRACE_MS / 6);
    const often = createEngine({
      redis: ctx.redis,
      prefix: ctx.prefix,
      journeys: [passwordReset],
      messages: outbox.messages,
      sweepIntervalMs: 1_000,
    });
    engines.push(daily, often);
    expect(often.loadedJourneys.intervalMs).toBe(1_000);
  });
});
