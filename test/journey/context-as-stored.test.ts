import { assign } from 'xstate';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createJourneyHarness, defineJourney } from '../../engine/index.js';

/**
 * A worker keeps an instance's context in Redis as JSON between events: what the harness hands the
 * next step must be the same, or a journey that passes its tests fails in the workers.
 */
describe('the context between steps, as the store keeps it', () => {
  const delivered = defineJourney({
    id: 'delivered',
    version: 1,
    trigger: { event: 'Order Shipped', properties: z.object({ eta: z.coerce.date() }) },
    events: { 'Order Delivered': z.object({}) },
    data: z.object({ dayBefore: z.unknown().optional() }),
    machine: (j) =>
      j.createMachine({
        initial: 'shipped',
        states: {
          shipped: {
            tags: 'decision',
            entry: assign({
              data: ({ context }) => ({ dayBefore: new Date(context.trigger.eta.getTime() - 86_400_000) }),
            }),
            on: {
              'Order Delivered': {
                guard: ({ context }) => context.trigger.eta.getTime() > 0,
                target: 'delivered',
              },
            },
            after: { '1d': 'reminded' },
          },
          reminded: { tags: 'decision', type: 'final', entry: j.send('delivery-update', ['email']) },
          delivered: { tags: 'loyalty', type: 'final' },
        },
      }),
  });

  it('hands a later step a date as the ISO string a worker reads back from Redis', () => {
    const h = createJourneyHarness(delivered, { start: Date.parse('2026-03-01T10:00:00Z') });
    h.track('ada', 'Order Shipped', { eta: '2026-03-04' });
    h.advance('1d');
    const [send] = h.sent('ada');
    expect(send?.trigger).toEqual({ eta: '2026-03-04T00:00:00.000Z' });
    expect(send?.data).toEqual({ dayBefore: '2026-03-03T00:00:00.000Z' });
  });

  it('refuses an event whose guard needs a Date there, as a worker does', () => {
    const h = createJourneyHarness(delivered);
    h.track('bo', 'Order Shipped', { eta: '2026-03-04' });
    h.track('bo', 'Order Delivered');
    expect(h.instance('bo')).toMatchObject({ status: 'active', state: 'shipped' });
    expect(h.notes('bo').at(-1)).toMatchObject({
      kind: 'rejected',
      reason: expect.stringContaining('getTime is not a function'),
    });
  });

  it('refuses, saying why, an event after which the context could not be stored', () => {
    const counted = defineJourney({
      id: 'counted',
      version: 1,
      trigger: { event: 'Go' },
      data: z.object({ count: z.unknown().optional() }),
      events: { Tick: z.object({}) },
      machine: (j) =>
        j.createMachine({
          initial: 'a',
          states: {
            a: { tags: 'awareness', on: { Tick: { actions: assign({ data: () => ({ count: 1n }) }) } } },
          },
        }),
    });
    const h = createJourneyHarness(counted);
    h.track('cy', 'Go');
    h.track('cy', 'Tick');
    expect(h.notes('cy').at(-1)).toMatchObject({
      kind: 'rejected',
      reason: expect.stringMatching(/context cannot be stored as JSON .*To fix: keep plain values/),
    });
  });
});
