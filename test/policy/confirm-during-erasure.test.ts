import { AsyncLocalStorage } from 'node:async_hooks';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  CommandExecutor,
  drainCustomer,
  silentLogger,
  systemClock,
  type DrainDependencies,
  type Engine,
} from '../../engine/index.js';
import { keysSharingTag } from '../../engine/redis/scan-keys.js';
import { onboardingEngine } from '../support/engine.js';
import { testRedis } from '../support/redis.js';

type SendCommand = (command: { name: string }, stream?: unknown) => Promise<unknown>;

describe('a double opt-in confirmation that meets the erasure of its customer', () => {
  let ctx: ReturnType<typeof testRedis>;
  let engine: Engine;
  beforeEach(() => {
    ctx = testRedis();
    engine = onboardingEngine(ctx, undefined, {
      consent: {
        doubleOptIn: true,
        confirmLink: { baseUrl: 'https://chorus.test', secret: 'test-secret-of-sixteen' },
      },
    });
  });
  afterEach(async () => {
    await engine.close();
    await ctx.cleanup();
  });

  /** Applies the events waiting in every customer's inbox, as the journey workers would. */
  async function drainWaiting() {
    const deps: DrainDependencies = {
      store: engine.store,
      catalog: engine.catalog,
      executor: new CommandExecutor({
        queues: engine.queues,
        jobIndex: engine.jobIndex,
        timerWheel: engine.timerWheel,
        clock: systemClock,
        timeScale: 1,
      }),
      clock: systemClock,
      logger: silentLogger,
    };
    await engine.settleIngest();
    for (const job of await engine.queues.journeys.getJobs(['waiting']))
      await drainCustomer(deps, (job.data as { customerId: string }).customerId, job.id!);
    await engine.queues.journeys.drain();
  }

  it('writes nothing back under their id, whichever of its steps the erasure ends between', async () => {
    const redis = engine.store.redis as unknown as { sendCommand: SendCommand };
    const sendCommand = redis.sendCommand.bind(redis);
    const erasedDuring: number[] = [];
    // Others' commands share the connection (the engine's queues write their meta once it is
    // ready): only those the confirmation issues, and what it starts, run in `confirming`.
    const confirming = new AsyncLocalStorage<true>();
    try {
      for (let n = 1; n <= 6; n++) {
        const id = `confirming-${n}`;
        const { confirmUrl } = await engine.consent.record(id, {
          channel: 'email',
          topic: 'marketing',
          granted: true,
          source: 'form',
          at: Date.now(),
        });
        await drainWaiting();
        const token = new URL(confirmUrl!).searchParams.get('token')!;
        let issued = 0;
        let erased = false;
        // The erasure runs, start to end, right after the confirmation's n-th Redis command is
        // answered, also when the answer is an error: a NOSCRIPT, from a Redis (or the Cluster node
        // of the customer's slot) that has not run the script yet, is followed by the script itself.
        redis.sendCommand = (command, stream) => {
          const answer = sendCommand(command, stream);
          if (erased || !confirming.getStore() || ++issued !== n) return answer;
          erased = true;
          return answer.then(
            async (value) => {
              await engine.erase(id);
              return value;
            },
            async (error: unknown) => {
              await engine.erase(id);
              throw error;
            },
          );
        };
        await confirming.run(true, () => engine.consent.confirm(token, Date.now()));
        redis.sendCommand = sendCommand;
        if (erased) erasedDuring.push(n);
        else await engine.erase(id);
        await drainWaiting();
        const left = await keysSharingTag(ctx.redis, engine.store.keys(id).state);
        expect(
          left.filter((key) => !key.includes(':seen:')),
          `erased after command ${n}`,
        ).toEqual([]);
      }
    } finally {
      redis.sendCommand = sendCommand;
    }
    expect(erasedDuring.length).toBeGreaterThanOrEqual(3);
  });
});
