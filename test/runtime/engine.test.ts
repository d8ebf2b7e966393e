import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { InvalidInputError, loadedJourneysKey, type Engine } from '../../engine/index.js';
import { onboarding } from '../fixtures/journeys/onboarding.js';
import { testDelivery } from '../support/delivery.js';
import { onboardingEngine } from '../support/engine.js';
import { eventually, testRedis } from '../support/redis.js';
import { customerInVariant } from '../support/variants.js';

const customerIn = (variant: string, salt?: string) => customerInVariant(variant, salt);

describe('the engine on a real Redis', () => {
  const running: Array<{ engine: Engine; cleanup: () => Promise<void> }> = [];
  let ctx: ReturnType<typeof testRedis>;
  let engine: Engine;

  /** An engine with its own key prefix; `timeScale` compresses journey waits. */
  function startEngine(timeScale = 1, sweepIntervalMs?: number) {
    const redis = testRedis();
    const outbox = testDelivery(redis.redis, redis.prefix, [onboarding]);
    const started = onboardingEngine(redis, outbox, {
      timeScale,
      ...(sweepIntervalMs === undefined ? {} : { sweepIntervalMs }),
    });
    started.startWorkers();
    running.push({
      engine: started,
      cleanup: async () => {
        outbox.cleanup();
        await redis.cleanup();
      },
    });
    return { engine: started, ctx: redis };
  }

  /** The customer once their first instance is in `state`. */
  const untilInState = (on: Engine, id: string, state: string) =>
    eventually(async () => {
      const c = await on.customer(id);
      return c.instances[0]?.state === state ? c : undefined;
    });

  beforeEach(() => {
    ({ engine, ctx } = startEngine());
  });

  afterEach(async () => {
    for (const { engine: e, cleanup } of running.splice(0)) {
      await e.close();
      await cleanup();
    }
  });

  it('enrols a customer on the trigger event, sends the welcome, and persists state and stage', async () => {
    const id = customerIn('tips', 'enrol');
    await engine.identify({ userId: id, traits: { firstName: 'Mei', email: 'mei@example.com' } });
    await engine.track({ userId: id, event: 'Signed Up', properties: { plan: 'pro' } });
    const customer = await eventually(async () => {
      const c = await engine.customer(id);
      return c.messages.length > 0 ? c : undefined;
    });
    expect(customer.profile).toEqual({ firstName: 'Mei', email: 'mei@example.com' });
    expect(customer.instances).toHaveLength(1);
    expect(customer.instances[0]).toMatchObject({
      journeyId: 'onboarding',
      journeyVersion: 1,
      state: 'browsing',
      stage: 'consideration',
      status: 'active',
    });
    expect(customer.messages[0]).toMatchObject({
      message: 'welcome',
      channel: 'email',
      journeyId: 'onboarding',
      status: 'sent',
      provider: 'outbox',
    });
    expect(customer.recentEvents.map((e) => e.kind)).toEqual(['track', 'identify']);
  });

  it('fires a wait as a BullMQ delayed job and takes the timeout branch', async () => {
    // One journey day lasts 10 ms of real time, so the two-day wait fires in 20 ms.
    const { engine } = startEngine(8_640_000);
    const id = customerIn('tips', 'wait');
    await engine.identify({ userId: id, traits: { phone: '+15550100', email: 'w@example.com' } });
    await engine.track({ userId: id, event: 'Signed Up' });
    const customer = await eventually(async () => {
      const c = await engine.customer(id);
      return c.instances[0]?.status === 'done' && c.messages.length === 2 ? c : undefined;
    });
    expect(customer.instances[0]).toMatchObject({ exitReason: 'lapsed', timers: {} });
    // One queue per channel: the two are recorded in whichever order their workers finish.
    expect(customer.messages.map((m) => [m.message, m.channel]).sort()).toEqual([
      ['nudge', 'sms'],
      ['welcome', 'email'],
    ]);
  });

  it('parks a long wait in the timer wheel and promotes it to a compact BullMQ job when due', async () => {
    // The browsing wait (2 days) lasts 4 s; the sweep every second promotes what falls due within 3 s.
    const { engine, ctx } = startEngine(43_200, 1000);
    const id = customerIn('tips', 'wheel');
    await engine.identify({ userId: id, traits: { phone: '+15550100', email: 'wh@example.com' } });
    await engine.track({ userId: id, event: 'Signed Up' });
    const parked = await eventually(async () => {
      const c = await engine.customer(id);
      return c.instances[0]?.state === 'browsing' ? c.instances[0] : undefined;
    });
    const [jobId] = Object.values(parked!.timers) as [string];
    expect(await ctx.redis.zscore(engine.timerWheel.keyOf(jobId), jobId)).not.toBeNull();
    expect(await engine.queues.journeys.getJob(jobId)).toBeUndefined();
    // Promoted, it is a job whose id names the customer and the instance, and the instance the
    // send id: the stored job keeps neither, nor the queue's defaults, so its hash stays a listpack.
    const promoted = await eventually(async () => {
      const job = await engine.queues.journeys.getJob(jobId);
      return job ? await ctx.redis.hgetall(engine.queues.journeys.toKey(jobId)) : undefined;
    });
    expect(JSON.parse(promoted.data!)).toEqual({ v: 2 });
    expect(Object.keys(JSON.parse(promoted.opts!) as object).sort()).toEqual([
      'attempts',
      'backoff',
      'delay',
    ]);
    expect(await ctx.redis.zscore(engine.timerWheel.keyOf(jobId), jobId)).toBeNull();
    const nudged = await untilInState(engine, id, 'nudged');
    expect(Object.values(nudged.instances[0]!.timers)).not.toContain(jobId);
  });

  it('fires a timer job queued by an earlier version, its data the whole event', async () => {
    const id = customerIn('tips', 'old-timer');
    await engine.identify({ userId: id, traits: { phone: '+15550100', email: 'o@example.com' } });
    await engine.track({ userId: id, event: 'Signed Up' });
    const parked = await eventually(async () => {
      const c = await engine.customer(id);
      return Object.keys(c.instances[0]?.timers ?? {}).length === 1 ? c.instances[0] : undefined;
    });
    const [[sendId, jobId]] = Object.entries(parked!.timers) as [[string, string]];
    // The earlier version's job instead of the wheel's entry, due now.
    expect(await engine.timerWheel.remove([jobId])).toBe(1);
    await engine.queues.journeys.add(
      'timer',
      { v: 1, kind: 'timer', id: jobId, customerId: id, instanceId: parked!.id, sendId, eventType: sendId },
      { jobId },
    );
    const customer = await untilInState(engine, id, 'nudged');
    // The browsing wait fired: the customer was nudged and waits on the next timer.
    expect(Object.values(customer.instances[0]!.timers)).not.toContain(jobId);
  });

  it('accepts a duplicate messageId and ignores it', async () => {
    const id = customerIn('tips', 'dupe');
    const first = await engine.track({ userId: id, event: 'Signed Up', messageId: 'm-1' });
    const second = await engine.track({ userId: id, event: 'Signed Up', messageId: 'm-1' });
    expect([first.accepted, second.accepted]).toEqual([true, false]);
    const customer = await eventually(async () => {
      const c = await engine.customer(id);
      return c.instances.length > 0 && c.pendingEvents === 0 ? c : undefined;
    });
    expect(customer.recentEvents).toHaveLength(1);
    expect(customer.instances).toHaveLength(1);
  });

  it('rejects bad input naming each field, and stores nothing', async () => {
    const error = await engine
      .track({ userId: '', event: 'Signed Up', properties: 'no' as never })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidInputError);
    expect((error as InvalidInputError).issues.map((i) => i.field)).toEqual(['userId', 'properties']);
    // The workers' record of the journeys they load apart (written as they start).
    const keys = await ctx.redis.keys(`${ctx.prefix}:*`);
    expect(keys.filter((key) => key !== loadedJourneysKey(ctx.prefix))).toEqual([]);
  });

  it('enters a customer through the API trigger only for an API-triggered journey', async () => {
    await expect(engine.trigger('nope', { userId: 'u1' })).rejects.toMatchObject({
      code: 'CHORUS_JOURNEY_NOT_FOUND',
      message: expect.stringMatching(/^No journey "nope" is loaded \(loaded: [^)]*onboarding/),
    });
    const error = await engine.trigger('onboarding', { userId: 'u-api' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidInputError);
    expect((error as InvalidInputError).message).toMatch(
      /starts on the event "Signed Up", not through the API/,
    );
    expect((await engine.customer('u-api')).pendingEvents).toBe(0);
  });

  it('applies an event whose drain job was never added, as after a producer died mid-ingest', async () => {
    const { engine } = startEngine(1, 200);
    const id = customerIn('tips', 'stranded');
    // Only the first half of ingest: the event is in the inbox, but no job will drain it.
    await engine.store.push(
      {
        v: 1,
        kind: 'track',
        id: 'lost-1',
        customerId: id,
        name: 'Signed Up',
        properties: {},
        timestamp: Date.now(),
      },
      { clientId: true, recent: true },
    );
    const customer = await eventually(async () => {
      const c = await engine.customer(id);
      return c.instances.length > 0 ? c : undefined;
    });
    expect(customer.instances[0]).toMatchObject({ journeyId: 'onboarding', status: 'active' });
  });
});
