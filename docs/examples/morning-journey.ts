import { z } from 'zod';
import { defineJourney } from '../../engine/index.js';

/** A cart reminder that arrives at the next 10:00 on the customer's own clock. */
export const morningReminder = defineJourney({
  id: 'morning-reminder',
  version: 1,
  trigger: { event: 'Product Added', properties: z.object({ name: z.string() }) },
  goal: { event: 'Order Completed', exit: true },
  // The cart-reminder templates print the coupon.
  data: z.object({ coupon: z.string().default('WELCOME10') }),
  machine: (j) =>
    j.createMachine({
      initial: 'waiting',
      states: {
        waiting: { tags: 'decision', after: { [j.atLocalTime('10:00')]: 'reminded' } },
        // Stale once late: a capped reminder is dropped rather than sent another day.
        reminded: {
          tags: 'decision',
          type: 'final',
          entry: j.send('cart-reminder', ['email'], { whenCapped: 'skip' }),
        },
      },
    }),
});
