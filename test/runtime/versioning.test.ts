import { z } from 'zod';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { createEngine, defineJourney, type Engine } from '../../engine/index.js';
import { testDelivery } from '../support/delivery.js';
import { eventually, testRedis } from '../support/redis.js';

/** Two versions of one journey: v1 waits for `Go` then sends nothing; v2 sends a nudge on `Go`. */
function version(v: 1 | 2) {
  return defineJourney({
    id: 'versioned',
    version: v,
    trigger: { event: 'Start' },
    events: { Go: z.object({}) },
    machine: (j) =>
      j.createMachine({
        initial: 'waiting',
        states: {
          waiting: {
            tags: 'awareness',
            entry: j.send('welcome', ['email']),
            on: { Go: v === 1 ? 'v1done' : 'v2done' },
          },
          ...(v === 1
            ? { v1done: { tags: 'decision', type: 'final' } }
            : { v2done: { tags: 'decision', type: 'final', entry: j.send('nudge', ['email']) } }),
        },
      }),
  });
}

describe('journey versions across a deployment', () => {
  const engines: Engine[] = [];
  const ctx = testRedis();
  const outbox = testDelivery(ctx.redis, ctx.prefix);
  const { messages, delivery } = outbox;

  afterEach(async () => {
    for (const engine of engines.splice(0)) await engine.close();
  });

  afterAll(async () => {
    outbox.cleanup();
    await ctx.cleanup();
  });

  it('lets customers in flight finish on the version they started while new entries take the latest', async () => {
    const before = createEngine({
      redis: ctx.redis,
      prefix: ctx.prefix,
      journeys: [version(1)],
      messages,
      delivery,
    });
    engines.push(before);
    before.startWorkers();
    await before.track({ userId: 'early', event: 'Start' });
    await eventually(async () => ((await before.customer('early')).messages.length === 1 ? true : undefined));
    await before.close();
    engines.pop();

    // The new deployment keeps v1 for the customers still in it.
    const after = createEngine({
      redis: ctx.redis,
      prefix: ctx.prefix,
      journeys: [version(1), version(2)],
      messages,
      delivery,
    });
    engines.push(after);
    after.startWorkers();
    await after.track({ userId: 'late', event: 'Start' });
    await after.track({ userId: 'early', event: 'Go' });
    await after.track({ userId: 'late', event: 'Go' });
    const [early, late] = await Promise.all(
      ['early', 'late'].map((id) =>
        eventually(async () => {
          const c = await after.customer(id);
          return c.instances[0]?.status === 'done' ? c : undefined;
        }),
      ),
    );
    expect(early!.instances[0]).toMatchObject({ journeyVersion: 1, exitReason: 'v1done' });
    expect(late!.instances[0]).toMatchObject({ journeyVersion: 2, exitReason: 'v2done' });
  });

  it('leaves a customer in a version an older worker does not load to a newer worker, spending no attempt', async () => {
    // A canary loads version 2 and enters a customer in it.
    const canary = createEngine({
      redis: ctx.redis,
      prefix: ctx.prefix,
      journeys: [version(1), version(2)],
      messages,
      delivery,
    });
    engines.push(canary);
    canary.startWorkers();
    await canary.track({ userId: 'canary-entered', event: 'Start' });
    await eventually(async () =>
      (await canary.customer('canary-entered')).instances[0]?.journeyVersion === 2 ? true : undefined,
    );
    await canary.close();
    engines.pop();

    // The customer's next event reaches a worker of the release before, which loads version 1 only.
    const older = createEngine({ redis: ctx.redis, prefix: ctx.prefix, journeys: [version(1)], messages });
    engines.push(older);
    older.startWorkers({ deliveries: false });
    await older.track({ userId: 'canary-entered', event: 'Go', messageId: 'go-1' });
    const job = await eventually(async () => {
      const found = (await older.queues.journeys.getJobs(['delayed', 'failed'])).find(
        (j) => j.attemptsStarted > 0,
      );
      return found && (await found.getState()) === 'delayed' && found.attemptsStarted > 0 ? found : undefined;
    });
    // Put back for a newer worker, as data a newer release wrote is: no attempt spent, nothing
    // applied or dead-lettered, however long the canary runs beside the older workers.
    expect(job.attemptsMade).toBe(0);
    expect(job.failedReason).toBeFalsy();
    const waiting = await older.customer('canary-entered');
    expect(waiting.pendingEvents).toBe(1);
    expect(waiting.deadLetters).toEqual([]);
    expect(waiting.instances[0]).toMatchObject({ journeyVersion: 2, status: 'active' });
    await older.close();
    engines.pop();

    // The release with version 2 takes the job when it is next due.
    const after = createEngine({
      redis: ctx.redis,
      prefix: ctx.prefix,
      journeys: [version(1), version(2)],
      messages,
      delivery,
    });
    engines.push(after);
    after.startWorkers();
    await (await after.queues.journeys.getJob(job.id!))!.promote();
    const done = await eventually(async () => {
      const c = await after.customer('canary-entered');
      return c.instances[0]?.status === 'done' ? c : undefined;
    });
    expect(done.instances[0]).toMatchObject({ journeyVersion: 2, exitReason: 'v2done' });
  });

  it('leaves a customer in a journey an older worker does not load at all to a newer worker, spending no attempt', async () => {
    // A canary adds the journey and enters a customer in it.
    const canary = createEngine({
      redis: ctx.redis,
      prefix: ctx.prefix,
      journeys: [version(1)],
      messages,
      delivery,
    });
    engines.push(canary);
    canary.startWorkers();
    await canary.track({ userId: 'new-journey', event: 'Start' });
    await eventually(async () =>
      (await canary.customer('new-journey')).messages.length === 1 ? true : undefined,
    );
    await canary.close();
    engines.pop();

    // The customer's next event reaches a worker of the release before, which has no such journey.
    const older = createEngine({ redis: ctx.redis, prefix: ctx.prefix, journeys: [], messages });
    engines.push(older);
    older.startWorkers({ deliveries: false });
    await older.track({ userId: 'new-journey', event: 'Go', messageId: 'go-new' });
    const job = await eventually(async () => {
      const found = (await older.queues.journeys.getJobs(['delayed', 'failed'])).find(
        (j) =>
          j.attemptsStarted > 0 && j.data && 'customerId' in j.data && j.data.customerId === 'new-journey',
      );
      return found && (await found.getState()) !== 'active' ? found : undefined;
    });
    expect(job.attemptsMade).toBe(0);
    expect(job.failedReason).toBeFalsy();
    expect(await job.getState()).toBe('delayed');
    const waiting = await older.customer('new-journey');
    expect(waiting.pendingEvents).toBe(1);
    expect(waiting.deadLetters).toEqual([]);
    await older.close();
    engines.pop();

    const after = createEngine({
      redis: ctx.redis,
      prefix: ctx.prefix,
      journeys: [version(1)],
      messages,
      delivery,
    });
    engines.push(after);
    after.startWorkers();
    await (await after.queues.journeys.getJob(job.id!))!.promote();
    const done = await eventually(async () => {
      const c = await after.customer('new-journey');
      return c.instances[0]?.status === 'done' ? c : undefined;
    });
    expect(done.instances[0]).toMatchObject({ journeyVersion: 1, exitReason: 'v1done' });
  });
});
