import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  createEngine,
  customerKeys,
  defineJourney,
  readJourneyCounts,
  recountJourneys,
  type Engine,
  type RedisConnection,
} from '../../engine/index.js';
import { eventually, ON_CLUSTER, testRedis } from '../support/redis.js';

/** Waits for a `Go` that never comes: its customers stay active in `waiting`. */
const waiting = defineJourney({
  id: 'waiting',
  version: 1,
  trigger: { event: 'Signed Up' },
  events: { Go: z.object({}) },
  machine: (j) =>
    j.createMachine({
      initial: 'waiting',
      states: {
        waiting: { tags: 'consideration', on: { Go: 'done' } },
        done: { tags: 'decision', type: 'final' },
      },
    }),
});

/**
 * Makes every command on `redis` fail once the command that deleted the customer's state (and
 * consent log, which only the erasure's last deletion names) has been answered, as a connection
 * lost at that moment: the erasure's later writes never reach Redis. Returns what restores it.
 */
function loseConnectionAfterDeleting(redis: RedisConnection, userId: string, prefix: string): () => void {
  const keys = customerKeys(prefix, userId);
  type Command = { name: string; args: unknown[]; promise: Promise<unknown>; reject: (e: Error) => void };
  const target = redis as unknown as { sendCommand: (command: Command) => unknown };
  const send = target.sendCommand.bind(target);
  let lost = false;
  target.sendCommand = (command) => {
    if (lost) {
      command.reject(new Error('Connection is closed.'));
      return command.promise;
    }
    const args = command.args.map(String);
    if (args.includes(keys.state) && args.includes(keys.consentLog))
      void command.promise.then(
        () => (lost = true),
        () => undefined,
      );
    return send(command);
  };
  return () => {
    target.sendCommand = send;
  };
}

describe('an erasure whose connection is lost once it has deleted the customer', () => {
  const engines: Engine[] = [];
  let ctx: ReturnType<typeof testRedis> | undefined;
  afterEach(async () => {
    for (const engine of engines.splice(0)) await engine.close();
    await ctx?.cleanup();
  });

  it.skipIf(ON_CLUSTER)('has taken them out of the live counts and kept what they counted for', async () => {
    ctx = testRedis();
    const { redis, prefix } = ctx;
    const entering = createEngine({ redis, prefix, journeys: [waiting], messages: { has: () => true } });
    engines.push(entering);
    entering.startWorkers({ deliveries: false });
    await entering.track({ userId: 'ada', event: 'Signed Up' });
    const before = await eventually(async () => {
      const [counts] = await readJourneyCounts(redis, prefix, 'waiting');
      return counts?.active === 1 ? counts : undefined;
    });
    await entering.close();
    engines.pop();

    const erasing = createEngine({ redis, prefix, journeys: [waiting], messages: { has: () => true } });
    engines.push(erasing);
    const restore = loseConnectionAfterDeleting(redis, 'ada', prefix);
    await expect(erasing.erase('ada')).rejects.toThrow('Connection is closed');
    restore();

    // On a single Redis the counts move in the same step as the deletion, as a step's do.
    expect(await redis.exists(customerKeys(prefix, 'ada').state)).toBe(0);
    const [after] = await readJourneyCounts(redis, prefix, 'waiting');
    expect(after).toMatchObject({ entered: 1, active: 0, states: {}, stages: {} });
    expect(after?.reached).toEqual(before.reached);
    await recountJourneys(redis, prefix);
    expect(await readJourneyCounts(redis, prefix, 'waiting')).toEqual([after]);
  });
});
