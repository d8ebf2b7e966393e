import { afterEach, describe, expect, it } from 'vitest';
import {
  createEngine,
  customerKeys,
  defineJourney,
  readConversions,
  readJourneyCounts,
  recountJourneys,
  type Engine,
} from '../../engine/index.js';
import { JourneyCatalog, JourneyValidationError } from '../../engine/journey/journey-catalog.js';
import { applyEvent } from '../../engine/runtime/apply-event.js';
import type { CustomerEvent } from '../../engine/runtime/customer-event.js';
import type { CustomerState } from '../../engine/runtime/instance-record.js';
import { eventually, testRedis } from '../support/redis.js';

/** A journey entered on every order that ends in its first state, `state`, tagged `stage`. */
const finishedAtOnce = (
  id: string,
  reentry: 'always' | 'never',
  state: string,
  stage: 'awareness' | 'loyalty',
) =>
  defineJourney({
    id,
    version: 1,
    trigger: { event: 'Order Placed' },
    reentry,
    machine: (j) => j.createMachine({ initial: state, states: { [state]: { tags: stage, type: 'final' } } }),
  });

/** Entered on every order: the shape that made customers grow without bound. */
const perOrder = finishedAtOnce('per-order', 'always', 'thanked', 'loyalty');
/** Entered once ever: the newest finished instance must survive pruning to keep it so. */
const onceOnly = finishedAtOnce('once-only', 'never', 'greeted', 'awareness');

const messages = { has: () => true };
const order = (n: number): CustomerEvent => ({
  v: 1,
  id: `order-${n}`,
  customerId: 'c1',
  timestamp: 1_000 + n,
  kind: 'track',
  name: 'Order Placed',
  properties: {},
});

describe('finished instances a customer keeps', () => {
  it('keeps the newest finished instances of a journey and hands back the ones it drops', () => {
    const catalog = new JourneyCatalog([perOrder, onceOnly], messages, { keepFinished: 2 });
    let customer: CustomerState = { customerId: 'c1', profile: {}, instances: new Map() };
    const pruned: string[] = [];
    for (let n = 1; n <= 5; n++) {
      const result = applyEvent(customer, order(n), 1_000 + n, catalog);
      customer = result.customer;
      pruned.push(...result.pruned.map((record) => record.id));
    }
    expect([...customer.instances.keys()].sort()).toEqual(['once-only.1', 'per-order.4', 'per-order.5']);
    expect(pruned).toEqual(['per-order.1', 'per-order.2', 'per-order.3']);
    // Numbering goes on from the newest kept instance, and `never` still refuses re-entry.
    const next = applyEvent(customer, order(6), 1_006, catalog);
    expect(next.customer.instances.has('per-order.6')).toBe(true);
    expect(next.notes).toContainEqual(
      expect.objectContaining({ kind: 'not-entered', journeyId: 'once-only' }),
    );
  });

  it('applies a lowered limit at the next event of any kind, not only when the journey finishes again', () => {
    const generous = new JourneyCatalog([perOrder], messages, { keepFinished: 5 });
    let customer: CustomerState = { customerId: 'c1', profile: {}, instances: new Map() };
    for (let n = 1; n <= 5; n++) customer = applyEvent(customer, order(n), 1_000 + n, generous).customer;
    expect(customer.instances.size).toBe(5);

    const strict = new JourneyCatalog([perOrder], messages, { keepFinished: 2 });
    const traits: CustomerEvent = {
      v: 1,
      id: 'identify-1',
      customerId: 'c1',
      timestamp: 2_000,
      kind: 'identify',
      traits: { plan: 'pro' },
    };
    const result = applyEvent(customer, traits, 2_000, strict);
    expect([...result.customer.instances.keys()].sort()).toEqual(['per-order.4', 'per-order.5']);
    expect(result.pruned.map((record) => record.id).sort()).toEqual([
      'per-order.1',
      'per-order.2',
      'per-order.3',
    ]);
  });

  it('refuses to keep fewer than one, naming the setting', () => {
    expect(() => new JourneyCatalog([perOrder], messages, { keepFinished: 0 })).toThrow(
      JourneyValidationError,
    );
    expect(() => new JourneyCatalog([perOrder], messages, { keepFinished: 0 })).toThrow(/keepFinished/);
  });

  describe('on a real Redis', () => {
    let engine: Engine | undefined;
    let cleanup: (() => Promise<void>) | undefined;
    afterEach(async () => {
      await engine?.close();
      await cleanup?.();
    });

    it('deletes the dropped instances and keeps their share of the counts for a recount', async () => {
      const ctx = testRedis();
      cleanup = ctx.cleanup;
      engine = createEngine({
        redis: ctx.redis,
        prefix: ctx.prefix,
        journeys: [perOrder],
        messages,
        keepFinishedInstances: 2,
      });
      engine.startWorkers({ deliveries: false });
      // One at a time, so each order is its own step (a batch prunes the same way).
      for (let n = 1; n <= 6; n++) {
        await engine.track({ userId: 'shopper', event: 'Order Placed', messageId: `order-${n}` });
        await eventually(async () => (await engine!.customer('shopper')).instances.some((i) => i.seq === n));
      }
      const stored = await engine.customer('shopper');
      expect(stored.instances.map((i) => i.id).sort()).toEqual(['per-order.5', 'per-order.6']);
      const keys = customerKeys(ctx.prefix, 'shopper');
      expect((await ctx.redis.hkeys(keys.state)).filter((f) => f.startsWith('i:')).sort()).toEqual([
        'i:per-order.5',
        'i:per-order.6',
      ]);
      expect(await engine.store.prunedCounts('shopper')).toMatchObject({
        'per-order|1|entered|all': 4,
        'per-order|1|exit|thanked': 4,
      });
      const [live] = await readJourneyCounts(ctx.redis, ctx.prefix, 'per-order');
      expect(live).toMatchObject({ entered: 6, active: 0, exits: { thanked: 6 }, reached: { loyalty: 6 } });
      await recountJourneys(ctx.redis, ctx.prefix);
      expect(await readJourneyCounts(ctx.redis, ctx.prefix, 'per-order')).toEqual([live]);
      // Erasing the customer takes the tally with everything else of theirs.
      await engine.erase('shopper');
      expect(await ctx.redis.exists(keys.pruned)).toBe(0);
      // The live counts keep what the erased customer counted for, and so does a recount,
      // which no longer finds them among the customers.
      expect(await readJourneyCounts(ctx.redis, ctx.prefix, 'per-order')).toEqual([live]);
      await recountJourneys(ctx.redis, ctx.prefix);
      expect(await readJourneyCounts(ctx.redis, ctx.prefix, 'per-order')).toEqual([live]);
    });

    it('logs the conversion of an instance pruned in the step that converted it, with its version and arms', async () => {
      const ctx = testRedis();
      cleanup = ctx.cleanup;
      // Entered on every sign-up; one order converts (and ends) every instance at once.
      const perSignup = defineJourney({
        id: 'per-signup',
        version: 3,
        trigger: { event: 'Signed Up' },
        goal: { event: 'Ordered', exit: true },
        reentry: 'always',
        machine: (j) =>
          j.createMachine({
            initial: 'split',
            states: {
              split: {
                tags: 'awareness',
                always: j.split('tone', {
                  warm: { weight: 1, target: 'waiting' },
                  cool: { weight: 1, target: 'waiting' },
                }),
              },
              waiting: { tags: 'decision' },
            },
          }),
      });
      engine = createEngine({
        redis: ctx.redis,
        prefix: ctx.prefix,
        journeys: [perSignup],
        messages,
        keepFinishedInstances: 2,
      });
      engine.startWorkers({ deliveries: false });
      for (let n = 1; n <= 3; n++) await engine.track({ userId: 'shopper', event: 'Signed Up' });
      await eventually(async () => (await engine!.customer('shopper')).instances.length === 3);
      const { instances } = await engine.customer('shopper');
      await engine.track({ userId: 'shopper', event: 'Ordered' });
      const logged = await eventually(async () => {
        const all = await readConversions(ctx.redis, ctx.prefix, 'per-signup', 0, Number.MAX_SAFE_INTEGER);
        return all.length === 3 ? all : undefined;
      });
      // The oldest was pruned in that step: only the two newest finished ones are kept.
      expect((await engine.customer('shopper')).instances.map((i) => i.id).sort()).toEqual([
        'per-signup.2',
        'per-signup.3',
      ]);
      expect(
        logged.map(({ instanceId, journeyVersion, variants }) => ({ instanceId, journeyVersion, variants })),
      ).toEqual(
        instances
          .sort((a, b) => a.seq - b.seq)
          .map((i) => ({ instanceId: i.id, journeyVersion: 3, variants: i.context.variants })),
      );
    });
  });
});

describe('a customer the re-entry policy keeps out', () => {
  it('is logged with the reason, as the API accepted the event long before', async () => {
    const ctx = testRedis();
    const logged: Array<{ obj: object; msg?: string }> = [];
    const record = (obj: object, msg?: string) => void logged.push({ obj, ...(msg ? { msg } : {}) });
    const engine = createEngine({
      redis: ctx.redis,
      prefix: ctx.prefix,
      journeys: [onceOnly],
      messages,
      logger: { debug: record, info: record, warn: record, error: record },
    });
    try {
      engine.startWorkers({ deliveries: false });
      await engine.track({ userId: 'shopper', event: 'Order Placed', messageId: 'order-1' });
      await engine.track({ userId: 'shopper', event: 'Order Placed', messageId: 'order-2' });
      const refused = await eventually(async () => logged.find((l) => l.msg === 'customer not entered'));
      expect(refused.obj).toEqual({
        customerId: 'shopper',
        journeyId: 'once-only',
        reason: 're-entry policy "never"',
      });
    } finally {
      await engine.close();
      await ctx.cleanup();
    }
  });
});
