import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  createEngine,
  customerKeys,
  FakeClock,
  FrequencyCapRules,
  frequencyCaps,
  type ChannelAdapter,
  type Engine,
  type WhenCapped,
} from '../../engine/index.js';
import { oneSendJourney } from '../support/channel-journeys.js';
import { testDelivery } from '../support/delivery.js';
import { eventually, testRedis } from '../support/redis.js';

/** Sends the nudge by email on `Ping <whenCapped>`, saying what to do when capped. */
const ping = (whenCapped: WhenCapped) =>
  oneSendJourney({
    id: `ping-${whenCapped}`,
    event: `Ping ${whenCapped}`,
    message: 'nudge',
    channels: ['email'],
    send: { whenCapped },
  });

describe('a frequency cap in the engine: capped sends wait or are skipped, each with its reason', () => {
  let ctx: ReturnType<typeof testRedis>;
  let delivery: ReturnType<typeof testDelivery>;
  let engine: Engine;
  // Real time, so BullMQ's delayed set (which runs on real time) holds a send the cap delays.
  const clock = new FakeClock(Date.now());
  /** How many of the next emails the provider refuses for good (a 5xx). */
  let refuseNext = 0;

  beforeEach(() => {
    ctx = testRedis();
    const journeys = [ping('wait'), ping('skip')];
    delivery = testDelivery(ctx.redis, ctx.prefix, journeys);
    refuseNext = 0;
    const email = delivery.delivery.adapters.email!;
    const refusing: ChannelAdapter = {
      ...email,
      send: async (d) =>
        refuseNext-- > 0 ? { status: 'failed', reason: '550 5.1.1 mailbox unavailable' } : email.send(d),
    };
    engine = createEngine({
      redis: ctx.redis,
      prefix: ctx.prefix,
      journeys,
      messages: delivery.messages,
      clock,
      delivery: {
        ...delivery.delivery,
        adapters: { ...delivery.delivery.adapters, email: refusing },
        policy: frequencyCaps({
          redis: ctx.redis,
          prefix: ctx.prefix,
          rules: FrequencyCapRules.parse('marketing:1/24h'),
        }),
      },
    });
    engine.startWorkers();
  });

  afterEach(async () => {
    await engine.close();
    await ctx.cleanup();
    delivery.cleanup();
  });

  const messagesOf = (userId: string, count: number) =>
    eventually(async () => {
      const { messages } = await engine.customer(userId);
      return messages.length >= count ? messages : undefined;
    });

  it('delays the second marketing send of the day until the first leaves the window, then sends it', async () => {
    const first = clock.now();
    await engine.identify({ userId: 'ada', traits: { email: 'ada@example.com' } });
    await engine.track({ userId: 'ada', event: 'Ping wait' });
    await messagesOf('ada', 1);
    clock.advance('1h');
    await engine.track({ userId: 'ada', event: 'Ping wait' });
    const [held, sent] = await messagesOf('ada', 2);
    expect(sent).toMatchObject({ status: 'sent', channel: 'email' });
    expect(held).toMatchObject({
      status: 'delayed',
      channel: 'email',
      message: 'nudge',
      until: first + 86_400_000,
      reason: `frequency cap marketing:1/24h reached: waits until ${new Date(first + 86_400_000).toISOString()}`,
    });
    // The delay is noted on the customer just before the job moves to the delayed set.
    const job = await eventually(async () => (await engine.queues.deliveries.email.getDelayed())[0]);
    expect(job.data.opId).toBe(held!.opId);

    // A day later the slot is free again: the held send goes when its delay ends.
    clock.advance('23h');
    await job.promote();
    const [resent] = await messagesOf('ada', 3);
    expect(resent).toMatchObject({ status: 'sent', opId: held!.opId });
  });

  it('skips a capped send whose journey said whenCapped: skip, recording why', async () => {
    await engine.identify({ userId: 'bo', traits: { email: 'bo@example.com' } });
    await engine.track({ userId: 'bo', event: 'Ping wait' });
    await messagesOf('bo', 1);
    await engine.track({ userId: 'bo', event: 'Ping skip' });
    const [skipped] = await messagesOf('bo', 2);
    expect(skipped).toMatchObject({
      status: 'skipped',
      journeyId: 'ping-skip',
      reason: expect.stringMatching(/^frequency cap marketing:1\/24h reached \(next slot at /),
    });
    expect(await engine.queues.deliveries.email.getDelayedCount()).toBe(0);
  });

  it('gives the slot back when the provider refuses the send, so the next one goes', async () => {
    await engine.identify({ userId: 'cy', traits: { email: 'cy@example.com' } });
    refuseNext = 1;
    await engine.track({ userId: 'cy', event: 'Ping wait' });
    const [failed] = await messagesOf('cy', 1);
    expect(failed).toMatchObject({ status: 'failed', reason: '550 5.1.1 mailbox unavailable' });
    // The slot is given back just after the outcome is recorded.
    const capKey = customerKeys(ctx.prefix, 'cy').cap('marketing:1/24h');
    await eventually(async () => (await ctx.redis.zcard(capKey)) === 0);
    clock.advance('1h');
    await engine.track({ userId: 'cy', event: 'Ping wait' });
    const [sent] = await messagesOf('cy', 2);
    expect(sent).toMatchObject({ status: 'sent', channel: 'email' });
    expect(await ctx.redis.zrange(capKey, 0, -1)).toEqual([sent!.opId]);
  });
});
