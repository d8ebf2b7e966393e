import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import {
  createEngine,
  createHttpApp,
  FakeClock,
  FrequencyCapRules,
  frequencyCaps,
  type Engine,
} from '../../engine/index.js';
import { MESSAGE_LIST_CAP } from '../../engine/delivery/outcome-recorder.js';
import { oneSendJourney } from '../support/channel-journeys.js';
import { testDelivery } from '../support/delivery.js';
import { API_KEY, DASHBOARD, UNSUBSCRIBE_SECRET } from '../support/http.js';
import { eventually, testRedis } from '../support/redis.js';

const ping = oneSendJourney({ id: 'ping', event: 'Ping', message: 'nudge', channels: ['email'] });

describe("a send held again and again keeps one entry on the customer's message list", () => {
  let ctx: ReturnType<typeof testRedis>;
  let delivery: ReturnType<typeof testDelivery>;
  let engine: Engine;
  let app: FastifyInstance;
  // Real time, so BullMQ's delayed set (which runs on real time) holds the send the cap delays.
  const clock = new FakeClock(Date.now());

  beforeEach(async () => {
    ctx = testRedis();
    delivery = testDelivery(ctx.redis, ctx.prefix, [ping]);
    engine = createEngine({
      redis: ctx.redis,
      prefix: ctx.prefix,
      journeys: [ping],
      messages: delivery.messages,
      clock,
      delivery: {
        ...delivery.delivery,
        policy: frequencyCaps({
          redis: ctx.redis,
          prefix: ctx.prefix,
          rules: FrequencyCapRules.parse('marketing:1/24h'),
        }),
      },
    });
    engine.startWorkers();
    app = await createHttpApp({
      engine,
      redis: ctx.redis,
      apiKeys: [API_KEY],
      dashboard: { ...DASHBOARD, write: false },
      unsubscribeSecret: UNSUBSCRIBE_SECRET,
      clock,
    });
  });

  afterEach(async () => {
    await app.close();
    await engine.close();
    await ctx.cleanup();
    delivery.cleanup();
  });

  it('so a bounce of an older send is still matched to it after more holds than the list has room for', async () => {
    await engine.identify({ userId: 'ada', traits: { email: 'ada@example.com' } });
    await engine.track({ userId: 'ada', event: 'Ping' });
    const [sent] = await eventually(async () => {
      const { messages } = await engine.customer('ada');
      return messages[0]?.status === 'sent' ? messages : undefined;
    });
    clock.advance('1h');
    const firstHold = clock.now();
    await engine.track({ userId: 'ada', event: 'Ping' });

    // Each run finds the cap still full (the clock stands still) and holds the send again.
    const email = engine.queues.deliveries.email;
    const holds = MESSAGE_LIST_CAP + 20;
    let runs = 0;
    for (let hold = 1; hold <= holds; hold++) {
      const job = await eventually(async () => {
        const [held] = await email.getDelayed();
        return held && held.attemptsStarted > runs ? held : undefined;
      });
      runs = job.attemptsStarted;
      if (hold === 1) clock.advance('1m');
      if (hold < holds) await job.promote();
    }

    // The provider's bounce of the first send, as its webhook reports it.
    const bounce = await app.inject({
      method: 'POST',
      url: '/v1/delivery-events',
      headers: { authorization: `Bearer ${API_KEY}` },
      payload: {
        type: 'bounce',
        bounceType: 'hard',
        channel: 'email',
        address: 'ada@example.com',
        customerId: 'ada',
        opId: String(sent!.opId),
      },
    });
    expect(bounce.json()).toEqual({ suppressed: true, reason: 'hard-bounce', recorded: 'first' });

    // The customer shows both sends: the held one once, as of its latest hold, with how often and
    // since when it was held; the first with its bounce.
    const customer = await app.inject({
      url: '/v1/customers/ada',
      headers: { authorization: `Bearer ${API_KEY}` },
    });
    const messages = customer.json<{ messages: Array<Record<string, unknown>> }>().messages;
    expect(messages).toHaveLength(2);
    const [held, older] = messages;
    expect(older).toEqual({ ...sent, bouncedAt: clock.now() });
    expect(held).toMatchObject({
      status: 'delayed',
      reason: expect.stringMatching(/^frequency cap marketing:1\/24h reached/),
      until: (sent!.at as number) + 86_400_000,
      holds,
      heldSince: firstHold,
      at: firstHold + 60_000,
    });
  }, 60_000);
});
