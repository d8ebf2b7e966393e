import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  CommandExecutor,
  createEngine,
  customerKeys,
  defineJourney,
  drainCustomer,
  NewerVersionError,
  silentLogger,
  systemClock,
  type Command,
  type DrainDependencies,
  type Engine,
} from '../../engine/index.js';
import { testRedis } from '../support/redis.js';

/** Welcomes, then nudges after a wait: v1 after an hour with `nudge`, v2 after three days with `nudge-v2`. */
function welcome(version: 1 | 2) {
  return defineJourney({
    id: 'welcome',
    version,
    trigger: { event: 'Signed Up' },
    machine: (j) =>
      j.createMachine({
        initial: 'welcomed',
        states: {
          welcomed: {
            tags: 'awareness',
            entry: j.send(version === 1 ? 'welcome' : 'welcome-v2', ['email']),
            after: { [version === 1 ? '1h' : '3d']: 'nudged' },
          },
          nudged: { tags: 'consideration', type: 'final' },
        },
      }),
  });
}

/** Carries out the commands, then fails once, as a process that died before its commit. */
class FailsOnceAfterRunning extends CommandExecutor {
  failures = 1;
  override async run(commands: readonly Command[]): Promise<void> {
    await super.run(commands);
    if (this.failures-- > 0) throw new Error('the worker died before its commit');
  }
}

describe('a step interrupted before its commit while a new journey version is deployed', () => {
  let ctx: ReturnType<typeof testRedis>;
  const engines: Engine[] = [];

  beforeEach(() => {
    ctx = testRedis();
  });

  afterEach(async () => {
    for (const engine of engines.splice(0)) await engine.close();
    await ctx.cleanup();
  });

  function engineWith(versions: Array<1 | 2>): { engine: Engine; deps: DrainDependencies } {
    const engine = createEngine({
      redis: ctx.redis,
      prefix: ctx.prefix,
      journeys: versions.map(welcome),
      messages: { has: () => true },
    });
    engines.push(engine);
    const executor = new FailsOnceAfterRunning({
      queues: engine.queues,
      jobIndex: engine.jobIndex,
      clock: systemClock,
      timeScale: 1,
    });
    return {
      engine,
      deps: {
        store: engine.store,
        catalog: engine.catalog,
        executor,
        clock: systemClock,
        logger: silentLogger,
      },
    };
  }

  it('is re-run on the version it entered the customer in, whose send and timer it already made', async () => {
    // A worker of the release with v1 only enters Ada: it sends v1's welcome and sets v1's
    // one-hour timer, then dies before its commit.
    const before = engineWith([1]);
    await before.engine.track({ userId: 'ada', event: 'Signed Up' });
    await expect(drainCustomer(before.deps, 'ada', 'job-1')).rejects.toThrow('died before its commit');

    // The job runs again on the release that added v2.
    const after = engineWith([1, 2]);
    after.deps.executor = new CommandExecutor(after.deps.executor.options);
    await expect(drainCustomer(after.deps, 'ada', 'job-1')).resolves.toBe('drained');

    // Computed again, the step comes out as it did: Ada is in v1, and the one-hour timer and the
    // welcome it made are hers, not a v2 instance's that would be nudged after an hour, not three
    // days, and never get its own welcome (its send and timer ids are the ones v1 already used).
    const [instance] = (await after.engine.customer('ada')).instances;
    expect(instance).toMatchObject({ journeyVersion: 1, state: 'welcomed', status: 'active' });
    expect(Object.keys(instance!.timers)).toEqual(['xstate.after.1h.welcome.welcomed']);
    const sends = await after.engine.queues.deliveries.email.getJobs(['waiting']);
    expect(sends.map((job) => [job.name, job.data.journeyVersion])).toEqual([['welcome', 1]]);
  });

  it('is left to a worker that loads the version it entered, not re-run on an older one', async () => {
    // A worker of the release with v2 enters Ada in v2 and dies before its commit.
    const newer = engineWith([1, 2]);
    await newer.engine.track({ userId: 'ada', event: 'Signed Up' });
    await expect(drainCustomer(newer.deps, 'ada', 'job-1')).rejects.toThrow('died before its commit');

    // A worker of the release before (v1 only) takes the job: it leaves it to a newer worker.
    const older = engineWith([1]);
    older.deps.executor = new CommandExecutor(older.deps.executor.options);
    await expect(drainCustomer(older.deps, 'ada', 'job-1')).rejects.toThrow(NewerVersionError);
    expect(await older.engine.customer('ada')).toMatchObject({ instances: [], pendingEvents: 1 });

    await expect(drainCustomer(newer.deps, 'ada', 'job-1')).resolves.toBe('drained');
    const [instance] = (await newer.engine.customer('ada')).instances;
    expect(instance).toMatchObject({ journeyVersion: 2, state: 'welcomed' });
    // Committed, the step leaves no record of what it entered behind.
    expect(await ctx.redis.hkeys(customerKeys(ctx.prefix, 'ada').state)).not.toContain('step-entries');
  });
});
