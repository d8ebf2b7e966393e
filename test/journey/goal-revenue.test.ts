import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createJourneyHarness, defineJourney, Revenue } from '../../engine/index.js';

/** A journey whose goal event has no declared schema: its properties arrive as sent. */
const orders = defineJourney({
  id: 'orders',
  version: 1,
  trigger: { event: 'Signed Up' },
  goal: { event: 'Order Completed' },
  reentry: 'always',
  machine: (j) => j.createMachine({ initial: 'waiting', states: { waiting: { tags: 'consideration' } } }),
});

describe("a goal event's revenue", () => {
  it('is read from a number, or from a decimal number sent as a string, as Segment senders often do', () => {
    const h = createJourneyHarness(orders);
    const revenues: unknown[] = [
      30,
      '49.90',
      ' 12 ',
      '-5.5',
      'about 10',
      '1e3',
      Number.NaN,
      true,
      '9'.repeat(400),
    ];
    for (const [i, revenue] of revenues.entries()) {
      h.track(`u${i}`, 'Signed Up', {});
      h.track(`u${i}`, 'Order Completed', { revenue });
    }
    const recorded = revenues.map((_, i) => {
      const note = h.notes(`u${i}`).find((n) => n.kind === 'converted');
      return note && 'revenue' in note ? note.revenue : undefined;
    });
    // 400 nines are digits, yet no finite number: as no revenue, not an infinite one.
    expect(recorded).toEqual([30, 49.9, 12, -5.5, undefined, undefined, undefined, undefined, undefined]);
  });
});

/** The same goal with a schema for the event that names its order id only. */
const ordersWithSchema = defineJourney({
  id: 'orders-with-schema',
  version: 1,
  trigger: { event: 'Signed Up' },
  events: { 'Order Completed': z.object({ order_id: z.string() }) },
  goal: { event: 'Order Completed' },
  reentry: 'always',
  machine: (j) => j.createMachine({ initial: 'waiting', states: { waiting: { tags: 'consideration' } } }),
});

/** A goal whose schema reads the revenue from a "49,90" string, as a sender in Germany writes it. */
const ordersInEuros = defineJourney({
  id: 'orders-in-euros',
  version: 1,
  trigger: { event: 'Signed Up' },
  events: {
    'Order Completed': z.object({
      revenue: z.string().transform((value) => Number(value.replace(',', '.'))),
    }),
  },
  goal: { event: 'Order Completed' },
  reentry: 'always',
  machine: (j) => j.createMachine({ initial: 'waiting', states: { waiting: { tags: 'consideration' } } }),
});

describe("a goal event's revenue under the event's schema", () => {
  const revenueOf = (h: ReturnType<typeof createJourneyHarness>, userId: string) => {
    const note = h.notes(userId).find((n) => n.kind === 'converted');
    return note && 'revenue' in note ? note.revenue : undefined;
  };

  it('is kept when the schema does not name it (a plain object schema strips what it does not name)', () => {
    const h = createJourneyHarness(ordersWithSchema);
    h.track('u1', 'Signed Up', {});
    h.track('u1', 'Order Completed', { order_id: 'o-1', revenue: 30 });
    h.track('u2', 'Signed Up', {});
    h.track('u2', 'Order Completed', { order_id: 'o-2', revenue: '49.90' });
    expect([revenueOf(h, 'u1'), revenueOf(h, 'u2')]).toEqual([30, 49.9]);
  });

  it('is read as the schema parsed it when the schema names it', () => {
    const h = createJourneyHarness(ordersInEuros);
    h.track('u1', 'Signed Up', {});
    h.track('u1', 'Order Completed', { revenue: '49,90' });
    expect(revenueOf(h, 'u1')).toBe(49.9);
  });

  it('passes a schema that declares it with Revenue as a number, and refuses one that is no amount', () => {
    const declared = defineJourney({
      id: 'declared',
      version: 1,
      trigger: { event: 'Signed Up' },
      events: { 'Order Completed': z.object({ revenue: Revenue.optional() }) },
      goal: { event: 'Order Completed' },
      machine: (j) => j.createMachine({ initial: 'waiting', states: { waiting: { tags: 'consideration' } } }),
    });
    const h = createJourneyHarness(declared);
    h.track('u1', 'Signed Up', {});
    h.track('u1', 'Order Completed', { revenue: '49.90' });
    expect(h.notes('u1').find((n) => n.kind === 'converted')).toMatchObject({ revenue: 49.9 });
    h.track('u2', 'Signed Up', {});
    h.track('u2', 'Order Completed', { revenue: 'about 10' });
    expect(h.notes('u2').at(-1)).toMatchObject({
      kind: 'rejected',
      reason: expect.stringContaining('properties.revenue: expected an amount'),
    });
  });
});
