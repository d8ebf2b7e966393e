import type { Job } from 'bullmq';
import { describe, expect, it } from 'vitest';
import {
  CommandExecutor,
  drainCustomer,
  silentLogger,
  systemClock,
  type Command,
  type CustomerEvent,
  type DrainDependencies,
  type Engine,
} from '../../engine/index.js';
import { timerEvent, type TimerJobData } from '../../engine/runtime/timer-job.js';
import { engineEachTest } from '../support/engine.js';
import { customerInVariant } from '../support/variants.js';

/** Fails every batch that has commands to carry out, as a provider or Redis that stays away. */
class AlwaysFails extends CommandExecutor {
  override run(_commands: readonly Command[]): Promise<void> {
    return Promise.reject(new Error('the step failed before its commit'));
  }
}

/** Carries out the first batch's commands, with `during` happening meanwhile; fails the second. */
class FailsOnSecondRun extends CommandExecutor {
  #runs = 0;
  constructor(
    options: CommandExecutor['options'],
    private readonly during: () => Promise<unknown>,
  ) {
    super(options);
  }
  override async run(commands: readonly Command[]): Promise<void> {
    if (++this.#runs > 1) throw new Error('the second batch failed');
    await this.during();
    await super.run(commands);
  }
}

describe('a timer job run again after a failure', () => {
  const h = engineEachTest();
  // In the tips arm, the customer's first timer (browsing → nudge) sends: its batch has commands.
  const ada = customerInVariant('tips', 'timer-retry');

  const deps = (engine: Engine, executor?: CommandExecutor): DrainDependencies => ({
    store: engine.store,
    catalog: engine.catalog,
    executor:
      executor ??
      new CommandExecutor({
        queues: engine.queues,
        jobIndex: engine.jobIndex,
        timerWheel: engine.timerWheel,
        clock: systemClock,
        timeScale: 1,
      }),
    clock: systemClock,
    logger: silentLogger,
  });

  /** Ada, parked in `browsing`, and the event her timer's job delivers when it fires. */
  async function parkedWithTimer(engine: Engine): Promise<{ jobId: string; event: CustomerEvent }> {
    await engine.identify({ userId: ada, traits: { email: 'ada@example.com' } });
    await engine.track({ userId: ada, event: 'Signed Up' });
    await expect(drainCustomer(deps(engine), ada, 'drain-1')).resolves.toBe('drained');
    const [instance] = (await engine.customer(ada)).instances;
    expect(instance?.state).toBe('browsing');
    const [jobId] = Object.values(instance!.timers) as [string];
    const job = { id: jobId, timestamp: Date.now(), opts: { delay: 1000 }, data: { v: 2 } };
    return { jobId, event: timerEvent(job as unknown as Job<TimerJobData>)! };
  }

  it('appends its event to the inbox once, however often it and other jobs of the customer fail', async () => {
    const { engine } = h;
    const { jobId, event } = await parkedWithTimer(engine);
    const failing = deps(engine, new AlwaysFails(deps(engine).executor.options));
    const keys = engine.store.keys(ada);
    const redis = engine.store.redis;
    // The timer's job fails and retries; between some of its attempts its lease runs out and
    // another job of the customer (a drain job for a new event) takes it, and fails too.
    for (const token of [jobId, jobId, 'drain-2', jobId, 'drain-3', jobId]) {
      await expect(drainCustomer(failing, ada, token, token === jobId ? event : undefined)).rejects.toThrow(
        'failed before its commit',
      );
      await redis.del(keys.lease);
    }
    expect(await redis.lrange(keys.inbox, 0, -1)).toEqual([JSON.stringify(event)]);

    // Once it succeeds, the timer has fired once and left nothing behind.
    await expect(drainCustomer(deps(engine), ada, jobId, event)).resolves.toBe('drained');
    expect(await redis.llen(keys.inbox)).toBe(0);
    expect((await engine.customer(ada)).instances[0]?.state).toBe('nudged');
  });

  it('does not append its event again after its own step applied it', async () => {
    const { engine } = h;
    const { jobId, event } = await parkedWithTimer(engine);
    const store = engine.store;
    const keys = store.keys(ada);
    // The step applies the timer; meanwhile Ada views a product, so the step goes on to that event
    // after its commit, and fails there.
    const executor = new FailsOnSecondRun(deps(engine).executor.options, () =>
      engine.track({ userId: ada, event: 'Product Viewed', properties: { name: 'Oolong' } }),
    );
    await expect(drainCustomer(deps(engine, executor), ada, jobId, event)).rejects.toThrow(
      'second batch failed',
    );
    expect((await engine.customer(ada)).instances[0]?.state).toBe('nudged');

    // The retry finds only the product view to apply: no stale copy of the timer.
    const acquire = store.acquire.bind(store);
    const loaded: number[] = [];
    store.acquire = (async (...args: Parameters<typeof acquire>) => {
      const customer = await acquire(...args);
      if (typeof customer === 'object') loaded.push(customer.inbox.length);
      return customer;
    }) as typeof acquire;
    try {
      await expect(drainCustomer(deps(engine), ada, jobId, event)).resolves.toBe('drained');
    } finally {
      store.acquire = acquire;
    }
    expect(loaded).toEqual([1]);
    expect(await store.redis.llen(keys.inbox)).toBe(0);
    expect((await engine.customer(ada)).instances[0]?.state).toBe('interested');
  });
});
