import { describe, expect, it } from 'vitest';
import { createJourneyHarness, defineJourney } from '../../engine/index.js';

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
    const revenues: unknown[] = [30, '49.90', ' 12 ', '-5.5', 'about 10', '1e3', Number.NaN, true];
    for (const [i, revenue] of revenues.entries()) {
      h.track(`u${i}`, 'Signed Up', {});
      h.track(`u${i}`, 'Order Completed', { revenue });
    }
    const recorded = revenues.map((_, i) => {
      const note = h.notes(`u${i}`).find((n) => n.kind === 'converted');
      return note && 'revenue' in note ? note.revenue : undefined;
    });
    expect(recorded).toEqual([30, 49.9, 12, -5.5, undefined, undefined, undefined, undefined]);
  });
});
