import { expect, it } from 'vitest';
import { z } from 'zod';
import { createJourneyHarness, defineJourney } from '../../engine/index.js';

const cart = defineJourney({
  id: 'cart',
  version: 1,
  trigger: { event: 'Product Added' },
  events: { 'Order Completed': z.object({}).loose() },
  goal: { event: 'Order Completed', exit: true },
  machine: (j) =>
    j.createMachine({
      initial: 'waiting',
      states: {
        waiting: { tags: 'decision', after: { '1d': 'reminded' } },
        reminded: { tags: 'decision', type: 'final', entry: j.send('cart-reminder', ['email']) },
      },
    }),
});

it('lets a test date an event before now, as one delivered late, which a journey entered after it ignores', () => {
  const h = createJourneyHarness(cart);
  h.advance('1h');
  h.track('ada', 'Product Added');
  h.track('ada', 'Order Completed', {}, { timestamp: h.clock.now() - 30 * 60_000 });
  expect(h.instance('ada')).toMatchObject({ status: 'active', state: 'waiting' });
  h.track('ada', 'Order Completed', {}, { timestamp: new Date(h.clock.now()) });
  expect(h.instance('ada')).toMatchObject({ status: 'done', exitReason: 'goal', convertedAt: h.clock.now() });
});
