import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createEmailAdapter, defineJourney, FakeClock, type Engine } from '../../engine/index.js';
import { exitedAfterSend } from '../../engine/delivery/journey-exit.js';
import { sendOpId } from '../../engine/runtime/ids.js';
import type { InstanceRecord } from '../../engine/runtime/instance-record.js';
import { sendJob } from '../policy/send-job.js';
import { deliveryEngine, TEST_MAIL_FROM } from '../support/delivery.js';
import { eventually, testRedis } from '../support/redis.js';
import { startSmtpSink, type SmtpSink } from '../support/smtp-sink.js';

/**
 * A nudge at once, then three days to order. The order is the goal and ends the journey,
 * with a thank-you sent in the same step; closing the account ends it too.
 */
const cart = defineJourney({
  id: 'cart',
  version: 1,
  trigger: { event: 'Product Added' },
  profile: z.object({ email: z.string().optional(), firstName: z.string().optional() }).loose(),
  events: { 'Order Completed': z.object({}).loose() },
  goal: { event: 'Order Completed', exit: true },
  exitOn: ['Account Closed'],
  machine: (j) =>
    j.createMachine({
      initial: 'reminded',
      on: { 'Order Completed': { actions: j.send('thank-you', ['email']) } },
      states: {
        reminded: { tags: 'decision', entry: j.send('nudge', ['email']), after: { '3d': 'lapsed' } },
        lapsed: { tags: 'decision', type: 'final' },
      },
    }),
});

/**
 * The same, with a machine that does not react to the goal: only the goal's `exit` ends it, the
 * way most journeys leave their goal to the engine.
 */
const browse = defineJourney({
  id: 'browse',
  version: 1,
  trigger: { event: 'Product Viewed' },
  profile: z.object({ email: z.string().optional(), firstName: z.string().optional() }).loose(),
  goal: { event: 'Order Completed', exit: true },
  machine: (j) =>
    j.createMachine({
      initial: 'reminded',
      states: {
        reminded: { tags: 'decision', entry: j.send('nudge', ['email']), after: { '3d': 'lapsed' } },
        lapsed: { tags: 'decision', type: 'final' },
      },
    }),
});

describe('a send that waits in its queue while the customer leaves the journey', () => {
  let sink: SmtpSink;
  let ctx: ReturnType<typeof testRedis>;
  let engine: Engine;
  const clock = new FakeClock(Date.parse('2026-11-23T10:00:00Z'));

  beforeEach(async () => {
    sink = await startSmtpSink();
    ctx = testRedis();
    engine = deliveryEngine(
      ctx,
      [cart, browse],
      { adapters: { email: createEmailAdapter({ from: TEST_MAIL_FROM, smtpUrl: sink.url }) } },
      { clock },
    );
  });

  afterEach(async () => {
    await engine.close();
    await ctx.cleanup();
    await sink.close();
  });

  const recipients = () => sink.attempts.map((mail) => (mail.to && 'text' in mail.to ? mail.to.text : ''));
  const messagesOf = async (userId: string) =>
    (await engine.customer(userId)).messages.map((m) => [m.message, m.status, m.rule ?? null]);

  it('is not sent once the goal or an exit event ended the journey; a send of the exiting step is', async () => {
    // Journeys run, deliveries do not yet: each cart reminder waits in its queue (a backlog, a
    // quiet hour), and meanwhile two of the three customers leave the journey.
    engine.startWorkers({ deliveries: false });
    for (const userId of ['ada', 'bob', 'cy']) {
      await engine.identify({ userId, traits: { email: `${userId}@example.com`, firstName: userId } });
      await engine.track({ userId, event: 'Product Added' });
    }
    await eventually(async () => (await engine.queues.deliveries.email.getWaitingCount()) === 3);
    await engine.track({ userId: 'ada', event: 'Order Completed' });
    await engine.track({ userId: 'bob', event: 'Account Closed' });
    await eventually(async () => {
      const [ada, bob] = await Promise.all([engine.customer('ada'), engine.customer('bob')]);
      return ada.instances[0]?.status === 'done' && bob.instances[0]?.status === 'done';
    });

    engine.startWorkers({ journeys: false });
    await eventually(async () => (await engine.queues.deliveries.email.getCompletedCount()) === 4);

    expect(recipients().sort()).toEqual(['ada@example.com', 'cy@example.com']);
    expect(await messagesOf('ada')).toEqual(
      expect.arrayContaining([
        ['thank-you', 'sent', null],
        ['nudge', 'skipped', 'journey-exit'],
      ]),
    );
    expect(await messagesOf('bob')).toEqual([['nudge', 'skipped', 'journey-exit']]);
    expect(await messagesOf('cy')).toEqual([['nudge', 'sent', null]]);
    const reason = (await engine.customer('ada')).messages.find((m) => m.message === 'nudge')?.reason;
    expect(reason).toContain('goal');
  });

  it('is not sent once a goal the machine does not react to ended the journey', async () => {
    engine.startWorkers({ deliveries: false });
    for (const userId of ['dee', 'eve']) {
      await engine.identify({ userId, traits: { email: `${userId}@example.com`, firstName: userId } });
      await engine.track({ userId, event: 'Product Viewed' });
    }
    await eventually(async () => (await engine.queues.deliveries.email.getWaitingCount()) === 2);
    await engine.track({ userId: 'dee', event: 'Order Completed' });
    await eventually(async () => (await engine.customer('dee')).instances[0]?.status === 'done');

    engine.startWorkers({ journeys: false });
    await eventually(async () => (await engine.queues.deliveries.email.getCompletedCount()) === 2);

    expect(recipients()).toEqual(['eve@example.com']);
    expect(await messagesOf('dee')).toEqual([['nudge', 'skipped', 'journey-exit']]);
  });
});

describe('exitedAfterSend', () => {
  const made = (rev: number) => sendJob({ opId: sendOpId('ada', 'cart.1', rev, 0), instanceId: 'cart.1' });
  const instance = (over: Partial<InstanceRecord>): InstanceRecord => ({
    v: 1,
    id: 'cart.1',
    journeyId: 'cart',
    journeyVersion: 1,
    seq: 1,
    status: 'done',
    value: 'lapsed',
    context: {},
    rev: 2,
    timers: {},
    state: 'lapsed',
    stage: 'decision',
    enteredAt: 0,
    updatedAt: 0,
    ...over,
  });

  it('keeps the sends of an instance that ran to a final state of its own, or is still active', () => {
    expect(exitedAfterSend(made(1), instance({ exitReason: 'lapsed' }))).toBeUndefined();
    expect(exitedAfterSend(made(1), instance({ status: 'active' }))).toBeUndefined();
    expect(exitedAfterSend(made(1), undefined)).toBeUndefined();
  });

  it('stops the sends made before a goal or exit event ended the instance, not those made by that step', () => {
    expect(exitedAfterSend(made(1), instance({ exitReason: 'goal' }))).toContain('reached its goal');
    expect(exitedAfterSend(made(1), instance({ exitReason: 'exit:Account Closed' }))).toContain(
      '"Account Closed"',
    );
    expect(exitedAfterSend(made(2), instance({ exitReason: 'goal' }))).toBeUndefined();
  });
});
