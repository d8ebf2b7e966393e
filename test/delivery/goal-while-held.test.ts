import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  createEmailAdapter,
  defineJourney,
  FakeClock,
  policyCountsKey,
  QuietHoursWindow,
  respectfulSending,
  type Engine,
} from '../../engine/index.js';
import { CART_COUPON, yueTeaLifecycle } from '../../journeys/yue-tea-lifecycle.js';
import { deliveryEngine, TEST_MAIL_FROM } from '../support/delivery.js';
import { eventually, testRedis } from '../support/redis.js';
import { startSmtpSink, type SmtpSink } from '../support/smtp-sink.js';

/**
 * The shipped lifecycle's shape: the order is the goal, and the journey goes on after it with a
 * thank-you. An add to cart sends a reminder the order makes pointless (cancelOnGoal) and a nudge
 * it does not.
 */
const carted = defineJourney({
  id: 'carted',
  version: 1,
  trigger: { event: 'Product Added' },
  profile: z.object({ email: z.string().optional(), firstName: z.string().optional() }).loose(),
  events: { 'Order Completed': z.object({}).loose() },
  // The cart-reminder templates print the coupon.
  data: z.object({ coupon: z.string().default('STEEP10') }),
  goal: { event: 'Order Completed' },
  machine: (j) =>
    j.createMachine({
      initial: 'carted',
      states: {
        carted: {
          tags: 'decision',
          entry: [j.send('cart-reminder', ['email'], { cancelOnGoal: true }), j.send('nudge', ['email'])],
          on: { 'Order Completed': 'thanked' },
          after: { '3d': 'abandoned' },
        },
        thanked: { tags: 'loyalty', entry: j.send('thank-you', ['email']), after: { '7d': 'done' } },
        abandoned: { tags: 'decision', type: 'final' },
        done: { tags: 'loyalty', type: 'final' },
      },
    }),
});

const HOUR = 3_600_000;

describe('a send cancelled on the goal, held by quiet hours while the customer reaches it', () => {
  let sink: SmtpSink;
  let ctx: ReturnType<typeof testRedis>;
  let engine: Engine;
  // Real time, so BullMQ's delayed set (which runs on real time) holds what quiet hours delay;
  // the quiet hours are the two UTC hours around now.
  const clock = new FakeClock(Date.now());
  const hour = new Date(clock.now()).getUTCHours();
  const window = `${String(hour).padStart(2, '0')}:00-${String((hour + 2) % 24).padStart(2, '0')}:00`;

  beforeEach(async () => {
    sink = await startSmtpSink();
    ctx = testRedis();
    engine = deliveryEngine(
      ctx,
      [carted],
      {
        adapters: { email: createEmailAdapter({ from: TEST_MAIL_FROM, smtpUrl: sink.url }) },
        timing: respectfulSending({
          redis: ctx.redis,
          prefix: ctx.prefix,
          caps: [],
          quietHours: QuietHoursWindow.parse(window),
          defaultTimezone: 'UTC',
        }),
      },
      { clock },
    );
    engine.startWorkers();
  });

  afterEach(async () => {
    await engine.close();
    await ctx.cleanup();
    await sink.close();
  });

  /** The customer's message list, sorted; `outcomes` leaves out the notes of sends held earlier. */
  const messagesOf = async (userId: string, outcomes = false) =>
    (await engine.customer(userId)).messages
      .filter((m) => !outcomes || m.status !== 'delayed')
      .map((m) => [m.message, m.status, m.rule ?? null])
      .sort();

  it('is skipped under journey-goal once the order is in; the sends without the option go out', async () => {
    for (const userId of ['ada', 'bob']) {
      await engine.identify({ userId, traits: { email: `${userId}@example.com`, firstName: userId } });
      await engine.track({ userId, event: 'Product Added' });
    }
    await eventually(async () => (await engine.queues.deliveries.email.getDelayedCount()) === 4);
    expect(await messagesOf('ada')).toEqual([
      ['cart-reminder', 'delayed', 'quiet-hours'],
      ['nudge', 'delayed', 'quiet-hours'],
    ]);

    // Ada orders while her reminder waits out the quiet hours; her thank-you is held too.
    clock.advance(HOUR / 2);
    await engine.track({ userId: 'ada', event: 'Order Completed' });
    await eventually(async () => (await engine.queues.deliveries.email.getDelayedCount()) === 5);
    const ordered = (await engine.customer('ada')).instances[0]!;
    expect(ordered).toMatchObject({ status: 'active', state: 'thanked' });

    // The quiet hours end: every held send is looked at again.
    clock.advance(2 * HOUR);
    for (const job of await engine.queues.deliveries.email.getDelayed()) await job.promote();
    await eventually(async () => (await engine.queues.deliveries.email.getCompletedCount()) === 5);

    expect(await messagesOf('ada', true)).toEqual([
      ['cart-reminder', 'skipped', 'journey-goal'],
      ['nudge', 'sent', null],
      ['thank-you', 'sent', null],
    ]);
    expect(await messagesOf('bob', true)).toEqual([
      ['cart-reminder', 'sent', null],
      ['nudge', 'sent', null],
    ]);
    const reminder = (await engine.customer('ada')).messages.find((m) => m.message === 'cart-reminder')!;
    expect(reminder.reason).toMatch(
      /^the customer reached the goal of journey carted at \d{4}-.*Z, after this send was made$/,
    );
    const subjects = sink.attempts.map(
      (mail) => `${mail.to && 'text' in mail.to ? mail.to.text : ''} ${mail.subject ?? ''}`,
    );
    expect(subjects.filter((s) => s.startsWith('ada@'))).toHaveLength(2);
    expect(subjects.filter((s) => s.startsWith('bob@'))).toHaveLength(2);
    // Counted where /metrics reads policy decisions, as chorus_policy_decisions_total{rule="journey-goal"}.
    expect(await ctx.redis.hget(policyCountsKey(ctx.prefix), 'email|skip|journey-goal')).toBe('1');
  });
});

describe('the shipped lifecycle, its sends waiting in a backlog while the customer orders', () => {
  let sink: SmtpSink;
  let ctx: ReturnType<typeof testRedis>;
  let engine: Engine;

  beforeEach(async () => {
    sink = await startSmtpSink();
    ctx = testRedis();
    engine = deliveryEngine(
      ctx,
      [yueTeaLifecycle],
      { adapters: { email: createEmailAdapter({ from: TEST_MAIL_FROM, smtpUrl: sink.url }) } },
      // Four hours pass in a second; the three days to abandon the cart in 18 s.
      { timeScale: 4 * 3_600 },
    );
  });

  afterEach(async () => {
    await engine.close();
    await ctx.cleanup();
    await sink.close();
  });

  it('drops the cart reminder and its coupon, and sends the welcome queued before the order too', async () => {
    engine.startWorkers({ deliveries: false });
    await engine.identify({ userId: 'mei', traits: { email: 'mei@example.com', firstName: 'Mei' } });
    await engine.track({ userId: 'mei', event: 'Signed Up' });
    await engine.track({ userId: 'mei', event: 'Product Added', properties: { name: 'Jasmine Pearl' } });
    await eventually(async () => (await engine.customer('mei')).instances[0]?.state === 'reminded');
    await engine.track({ userId: 'mei', event: 'Order Completed', properties: { order_id: 'o-1' } });
    await eventually(async () => (await engine.customer('mei')).instances[0]?.state === 'thanked');

    engine.startWorkers({ journeys: false });
    await eventually(async () => (await engine.queues.deliveries.email.getCompletedCount()) === 3);
    const messages = (await engine.customer('mei')).messages;
    expect(messages.map((m) => [m.message, m.status, m.rule ?? null]).sort()).toEqual([
      ['cart-reminder', 'skipped', 'journey-goal'],
      ['thank-you', 'sent', null],
      ['welcome', 'sent', null],
    ]);
    expect(sink.attempts.map((mail) => mail.text ?? '').join('\n')).not.toContain(CART_COUPON);
  });
});
