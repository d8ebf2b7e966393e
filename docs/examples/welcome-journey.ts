import { z } from 'zod';
import { defineJourney } from '../../engine/index.js';

export const welcome = defineJourney({
  id: 'welcome',
  version: 1,
  trigger: { event: 'Signed Up', properties: z.object({ plan: z.enum(['free', 'pro']) }) },
  profile: z.object({ firstName: z.string().optional(), phone: z.string().optional() }),
  events: { 'Product Viewed': z.object({ name: z.string() }) },
  goal: { event: 'Order Completed', exit: true },
  machine: (j) => j.createMachine({
    initial: 'welcomed',
    states: {
      welcomed: { tags: 'awareness', entry: j.send('welcome', ['email']),
        on: { 'Product Viewed': 'interested' }, after: { '2d': 'nudge' } },
      nudge: { tags: 'consideration', always: [
        { guard: ({ context }) => context.profile.phone !== undefined, target: 'lapsed', actions: j.send('nudge', ['sms', 'email']) },
        { target: 'lapsed', actions: j.send('nudge', ['email']) }] },
      interested: { tags: 'decision', entry: j.send('product-spotlight', ['email']), after: { '4h': 'lapsed' } },
      lapsed: { tags: 'decision', type: 'final' },
    },
  }),
});
