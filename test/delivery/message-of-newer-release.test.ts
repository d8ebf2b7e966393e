import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, expect, it } from 'vitest';
import { createEngine, defineJourney, type Engine } from '../../engine/index.js';
import { NEWER_RELEASE_GRACE_MS } from '../../engine/runtime/newer-version.js';
import { testDelivery } from '../support/delivery.js';
import { eventually, testRedis } from '../support/redis.js';

/** A journey of the newer release, which sends a message that release added. */
const welcome = defineJourney({
  id: 'welcome',
  version: 1,
  trigger: { event: 'Signed Up' },
  machine: (j) =>
    j.createMachine({
      initial: 'welcomed',
      states: { welcomed: { tags: 'awareness', type: 'final', entry: j.send('welcome', ['email']) } },
    }),
});

const ctx = testRedis();
const outbox = testDelivery(ctx.redis, ctx.prefix, [welcome]);
const engines: Engine[] = [];

afterEach(async () => {
  for (const engine of engines.splice(0)) await engine.close();
});

afterAll(async () => {
  outbox.cleanup();
  await ctx.cleanup();
});

const emails = () =>
  readdirSync(join(outbox.outboxDir, 'email')).map((file) =>
    readFileSync(join(outbox.outboxDir, 'email', file), 'utf8'),
  );

it('leaves a send of a message an older delivery worker does not have to a newer one, instead of dropping it, during a rolling deploy', async () => {
  const newer = createEngine({
    redis: ctx.redis,
    prefix: ctx.prefix,
    journeys: [welcome],
    messages: outbox.messages,
    delivery: outbox.delivery,
  });
  engines.push(newer);
  newer.startWorkers({ deliveries: false });
  // The older release's delivery worker: its templates lack the message the newer release added.
  const older = createEngine({
    redis: ctx.redis,
    prefix: ctx.prefix,
    journeys: [],
    messages: { has: () => false },
    delivery: { ...outbox.delivery, messages: { get: () => undefined } },
  });
  engines.push(older);
  older.startWorkers({ journeys: false });

  await newer.identify({ userId: 'ada', traits: { email: 'ada@example.com' } });
  await newer.track({ userId: 'ada', event: 'Signed Up' });

  const job = await eventually(async () => {
    const [waiting] = await older.queues.deliveries.email.getJobs(['delayed']);
    return waiting && waiting.attemptsStarted > 0 ? waiting : undefined;
  });
  expect(job.attemptsMade).toBe(0);
  expect((await newer.customer('ada')).messages).toEqual([]);

  // The rollout goes on: the newer delivery worker replaces the older one.
  await older.close();
  newer.startWorkers({ journeys: false });
  await job.promote();
  await eventually(async () =>
    (await newer.customer('ada')).messages[0]?.status === 'sent' ? true : undefined,
  );
  expect(emails()).toHaveLength(1);
});

it('takes the message to be gone once no worker has had it for the grace, and falls back as for a channel without a template', async () => {
  const newer = createEngine({
    redis: ctx.redis,
    prefix: ctx.prefix,
    journeys: [welcome],
    messages: outbox.messages,
    delivery: outbox.delivery,
  });
  engines.push(newer);
  newer.startWorkers({ deliveries: false });
  const anHourOn = createEngine({
    redis: ctx.redis,
    prefix: ctx.prefix,
    journeys: [],
    messages: { has: () => false },
    delivery: { ...outbox.delivery, messages: { get: () => undefined } },
    clock: { now: () => Date.now() + NEWER_RELEASE_GRACE_MS },
  });
  engines.push(anHourOn);
  anHourOn.startWorkers({ journeys: false });

  await newer.identify({ userId: 'bo', traits: { email: 'bo@example.com' } });
  await newer.track({ userId: 'bo', event: 'Signed Up' });
  const [message] = await eventually(async () => {
    const { messages } = await newer.customer('bo');
    return messages[0]?.status === 'skipped' ? messages : undefined;
  });
  expect(message).toMatchObject({
    rule: 'channel-unavailable',
    reason: expect.stringMatching(/has no email template/),
  });
});
