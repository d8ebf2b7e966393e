import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  CommandExecutor,
  createEngine,
  defineJourney,
  drainCustomer,
  silentLogger,
  systemClock,
  type Command,
  type DrainDependencies,
  type Engine,
} from '../../engine/index.js';
import { testRedis } from '../support/redis.js';

/** Sorts each new customer once, on entry, by a trait: a guard that reads the profile. */
const sorting = defineJourney({
  id: 'sorting',
  version: 1,
  trigger: { event: 'Signed Up' },
  profile: z.object({ vip: z.boolean().optional() }).loose(),
  machine: (j) =>
    j.createMachine({
      initial: 'sorting',
      states: {
        sorting: {
          tags: 'awareness',
          always: [
            {
              guard: ({ context }) => context.profile.vip === true,
              target: 'vip',
              actions: j.send('vip-offer', ['email']),
            },
            { target: 'standard', actions: j.send('welcome', ['email']) },
          ],
        },
        vip: { tags: 'awareness', type: 'final' },
        standard: { tags: 'awareness', type: 'final' },
      },
    }),
});

/** Carries out the commands, then fails once, as a process that died before its commit. */
class FailsOnceAfterRunning extends CommandExecutor {
  failures = 1;
  override async run(commands: readonly Command[]): Promise<void> {
    await super.run(commands);
    if (this.failures-- > 0) throw new Error('the worker died before its commit');
  }
}

describe('a batch re-run after it was interrupted before its commit', () => {
  let ctx: ReturnType<typeof testRedis>;
  let engine: Engine;

  beforeEach(() => {
    ctx = testRedis();
    engine = createEngine({
      redis: ctx.redis,
      prefix: ctx.prefix,
      journeys: [sorting],
      messages: { has: () => true },
    });
  });

  afterEach(async () => {
    await engine.close();
    await ctx.cleanup();
  });

  it('applies each event to the profile as it stood then, not to the traits a later event of the batch sets', async () => {
    // Ada signs up, then becomes a VIP: the sign-up was sorted as standard.
    await engine.track({ userId: 'ada', event: 'Signed Up' });
    await engine.identify({ userId: 'ada', traits: { vip: true } });
    const executor = new FailsOnceAfterRunning({
      queues: engine.queues,
      jobIndex: engine.jobIndex,
      timerWheel: engine.timerWheel,
      clock: systemClock,
      timeScale: 1,
    });
    const deps: DrainDependencies = {
      store: engine.store,
      catalog: engine.catalog,
      executor,
      clock: systemClock,
      logger: silentLogger,
    };
    // The first run saves the new profile early (sends read it), carries out its commands and
    // dies; BullMQ runs the job again under the same id.
    await expect(drainCustomer(deps, 'ada', 'job-1')).rejects.toThrow('died before its commit');
    await expect(drainCustomer(deps, 'ada', 'job-1')).resolves.toBe('drained');

    const customer = await engine.customer('ada');
    expect(customer.profile).toEqual({ vip: true });
    expect(customer.instances.map((i) => [i.status, i.exitReason])).toEqual([['done', 'standard']]);
    // The one send of the step is the one the instance's branch made.
    const sends = await engine.queues.deliveries.email.getJobs(['waiting']);
    expect(sends.map((job) => job.name)).toEqual(['welcome']);
  });
});
