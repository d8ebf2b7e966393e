import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  allQueues,
  createEngine,
  createQueues,
  drainJobId,
  silentLogger,
  type Engine,
  type Logger,
} from '../../engine/index.js';
import { MAX_DRAIN_ADDS_IN_FLIGHT } from '../../engine/ingest/inbox-intake.js';
import { onboarding } from '../fixtures/journeys/onboarding.js';
import { eventually, testRedis } from '../support/redis.js';

/**
 * An ingest call answers once its event is in the customer's inbox; the drain job that makes a
 * worker apply it is added without the caller waiting for it. These check that nothing is lost
 * by that: the job is added before the engine closes, and an inbox whose job could not be added
 * is drained all the same.
 */
describe('the inbox intake', () => {
  let ctx: ReturnType<typeof testRedis>;
  let engine: Engine | undefined;
  const warnings: string[] = [];
  const logger: Logger = { ...silentLogger, warn: (_obj, msg) => void warnings.push(msg ?? '') };

  beforeEach(() => {
    ctx = testRedis();
    warnings.length = 0;
  });
  afterEach(async () => {
    await engine?.close();
    await ctx.cleanup();
  });

  const start = (sweepIntervalMs?: number) =>
    (engine = createEngine({
      redis: ctx.redis,
      prefix: ctx.prefix,
      journeys: [onboarding],
      messages: { has: () => true },
      logger,
      ...(sweepIntervalMs === undefined ? {} : { sweepIntervalMs }),
    }));

  it('adds the drain job of an answered event before close ends, as a one-off process closes at once', async () => {
    const e = start();
    // An add slower than the rest of close, as a busy Redis's answer may be.
    const queue = e.queues.journeys;
    const add = queue.add.bind(queue);
    queue.add = async (...args) => {
      await new Promise((resolve) => setTimeout(resolve, 300));
      return add(...args);
    };
    const { eventId } = await e.track({ userId: 'ada', event: 'Signed Up', properties: { plan: 'pro' } });
    await e.close();
    engine = undefined;

    const queues = createQueues(ctx.redis, ctx.prefix);
    try {
      expect(await queues.journeys.getJob(drainJobId('ada', eventId))).toBeDefined();
    } finally {
      await Promise.all(allQueues(queues).map((queue) => queue.close()));
    }
  });

  it('keeps an event whose drain job could not be added, says so, and the sweep has it applied', async () => {
    const e = start(200);
    const queue = e.queues.journeys;
    // As when Redis goes away between the inbox append and the add.
    queue.add = () => Promise.reject(new Error('Redis went away'));
    const result = await e.track({ userId: 'ada', event: 'Signed Up', properties: { plan: 'pro' } });
    expect(result.accepted).toBe(true);
    await eventually(async () =>
      warnings.includes('no drain job added for a stored event: the inbox sweep adds one'),
    );
    expect((await e.customer('ada')).pendingEvents).toBe(1);
    expect(e.drainAddsGivenUp()).toBe(1);

    delete (queue as { add?: unknown }).add;
    e.startWorkers({ deliveries: false });
    const customer = await eventually(async () => {
      const c = await e.customer('ada');
      return c.instances.length > 0 ? c : undefined;
    });
    expect(customer.pendingEvents).toBe(0);
    expect(customer.instances[0]).toMatchObject({ journeyId: 'onboarding', status: 'active' });
  });

  it('tries a failed add once more before leaving the event to the sweep', async () => {
    const e = start();
    const queue = e.queues.journeys;
    const add = queue.add.bind(queue);
    let calls = 0;
    queue.add = (...args) =>
      ++calls === 1 ? Promise.reject(new Error('Connection is closed.')) : add(...args);
    const { eventId } = await e.track({ userId: 'ada', event: 'Signed Up', properties: { plan: 'pro' } });
    await e.settleIngest();
    expect(calls).toBe(2);
    expect(warnings).toEqual([]);
    expect(await queue.getJob(drainJobId('ada', eventId))).toBeDefined();
  });

  it('makes callers wait for their add again once too many adds are in flight', async () => {
    const e = start();
    const queue = e.queues.journeys;
    const add = queue.add.bind(queue);
    let open!: () => void;
    const gate = new Promise<void>((resolve) => (open = resolve));
    queue.add = async (...args) => {
      await gate;
      return add(...args);
    };
    let answered = 0;
    const calls = Array.from({ length: MAX_DRAIN_ADDS_IN_FLIGHT + 1 }, (_, i) =>
      e.track({ userId: `u${i}`, event: 'Signed Up', properties: { plan: 'pro' } }).then(() => ++answered),
    );
    await eventually(async () => answered === MAX_DRAIN_ADDS_IN_FLIGHT);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(answered).toBe(MAX_DRAIN_ADDS_IN_FLIGHT);
    open();
    await Promise.all(calls);
    expect(await queue.getWaitingCount()).toBe(MAX_DRAIN_ADDS_IN_FLIGHT + 1);
  });
});
