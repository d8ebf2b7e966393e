import { z } from 'zod';
import { defineJourney } from '../engine/index.js';

/**
 * A short onboarding journey that shows every step type: send, wait, wait for an event with a
 * timeout, branch on the profile, a split with a holdout, and exits.
 */
export const onboarding = defineJourney({
  id: 'onboarding',
  version: 1,
  description: 'Welcome new sign-ups and lead them to a first order.',
  trigger: { event: 'Signed Up', properties: z.object({ plan: z.enum(['free', 'pro']).default('free') }) },
  profile: z.object({ firstName: z.string().optional(), phone: z.string().optional() }).loose(),
  events: {
    'Product Viewed': z.object({ name: z.string(), price: z.number().optional() }),
    'Order Completed': z.object({ revenue: z.number().optional() }).loose(),
  },
  goal: { event: 'Order Completed' },
  exitOn: ['Account Deleted'],
  reentry: 'after-exit',
  machine: (j) =>
    j.createMachine({
      initial: 'welcome',
      on: { 'Order Completed': '.customer' },
      states: {
        welcome: {
          tags: 'awareness',
          entry: j.send('welcome', ['email']),
          always: j.split('tips', {
            tips: { weight: 90, target: 'browsing' },
            holdout: { weight: 10, target: 'holdout' },
          }),
        },
        holdout: { tags: 'awareness', after: { '3d': 'lapsed' } },
        browsing: {
          tags: 'consideration',
          on: { 'Product Viewed': { target: 'interested' } },
          after: { P2D: 'nudge' },
        },
        nudge: {
          tags: 'consideration',
          always: [
            {
              guard: ({ context }) => context.profile.phone !== undefined,
              target: 'nudged',
              actions: j.send('nudge', ['sms']),
            },
            { target: 'nudged', actions: j.send('nudge', ['email']) },
          ],
        },
        nudged: { tags: 'consideration', after: { '1d': 'lapsed' }, on: { 'Product Viewed': 'interested' } },
        interested: {
          tags: 'decision',
          entry: j.send('product-spotlight', ['email']),
          after: { '4h': 'lapsed' },
        },
        customer: { tags: 'loyalty', entry: j.send('thank-you', ['email']), after: { '7d': 'completed' } },
        lapsed: { tags: 'decision', type: 'final' },
        completed: { tags: 'loyalty', type: 'final' },
      },
    }),
});
