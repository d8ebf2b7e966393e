import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createJourneyHarness, defineJourney } from '../../engine/index.js';

/**
 * A cart reminder on every `Cart Viewed` while the customer stays where they are (a transition
 * with actions and no target), then a last call after a day in the state.
 */
const carts = defineJourney({
  id: 'carts',
  version: 1,
  trigger: { event: 'Signed Up' },
  events: { 'Cart Viewed': z.object({}), 'Came Back': z.object({}) },
  machine: (j) =>
    j.createMachine({
      initial: 'shopping',
      states: {
        shopping: {
          tags: 'consideration',
          on: {
            'Cart Viewed': { actions: j.send('cart-reminder', ['email']) },
            // Re-entering the state runs its entry again and restarts its wait.
            'Came Back': { target: 'shopping', reenter: true },
          },
          entry: j.send('welcome', ['email']),
          after: { '1d': 'lastCall' },
        },
        lastCall: { tags: 'decision', type: 'final', entry: j.send('win-back', ['email']) },
      },
    }),
});

describe('a transition without a target', () => {
  it('runs its sends each time, and the state keeps its wait', () => {
    const h = createJourneyHarness(carts);
    h.track('u1', 'Signed Up', {});
    h.advance('1h');
    h.track('u1', 'Cart Viewed', {});
    h.track('u1', 'Cart Viewed', {});
    expect(h.sent('u1').map((s) => s.message)).toEqual(['welcome', 'cart-reminder', 'cart-reminder']);
    expect(new Set(h.sent('u1').map((s) => s.opId)).size).toBe(3);
    expect(h.state('u1')).toBe('shopping');
    // The wait set on entering is still the one that fires: a day after the sign-up.
    h.advance('23h');
    expect(h.state('u1')).toBe('lastCall');
    expect(
      h
        .sent('u1')
        .map((s) => s.message)
        .at(-1),
    ).toBe('win-back');
  });

  it('re-entering its own state runs the entry again and restarts the wait', () => {
    const h = createJourneyHarness(carts);
    h.track('u1', 'Signed Up', {});
    h.advance('12h');
    h.track('u1', 'Came Back', {});
    expect(h.sent('u1').map((s) => s.message)).toEqual(['welcome', 'welcome']);
    h.advance('23h');
    expect(h.state('u1')).toBe('shopping');
    h.advance('1h');
    expect(h.state('u1')).toBe('lastCall');
  });
});
