import { assign } from 'xstate';
import { z } from 'zod';
import { defineJourney, Revenue } from '../engine/index.js';

/** The code the coupon arm offers when the caller names none; the shop must accept it. */
export const WIN_BACK_COUPON = 'WELCOMEBACK15';

/**
 * Brings back customers who have not ordered for 60 days. The shop's nightly query enters them
 * with `POST /v1/journeys/win-back/trigger` `{ userId, data: { daysInactive, favouriteBlend? } }`.
 * An A/B test asks whether a discount earns its cost: `coupon` gets the letter with a code,
 * `letter` the same letter without one, and a 10% holdout gets nothing, to measure the lift.
 */
export const winBack = defineJourney({
  id: 'win-back',
  version: 1,
  description: 'Win back customers inactive for 60 days; a coupon against no coupon, with a holdout.',
  trigger: {
    api: z.object({
      daysInactive: z.number().int().min(60),
      favouriteBlend: z.string().optional(),
      coupon: z.string().min(3).default(WIN_BACK_COUPON),
    }),
  },
  profile: z.object({ firstName: z.string().optional() }),
  events: {
    'Order Completed': z.object({ order_id: z.string().optional(), revenue: Revenue.optional() }).loose(),
  },
  // Only the coupon arm carries a code: the template shows it when it is set.
  data: z.object({ coupon: z.string().optional() }),
  goal: { event: 'Order Completed', exit: true },
  machine: (j) =>
    j.createMachine({
      initial: 'inactive',
      states: {
        inactive: {
          tags: 'loyalty',
          always: j.split(
            'offer',
            {
              coupon: { weight: 45, target: 'offered' },
              letter: { weight: 45, target: 'written' },
              holdout: { weight: 10, target: 'heldOut' },
            },
            // The test asks whether the code earns its cost: the coupon's lift is read against the letter.
            { control: 'letter' },
          ),
        },
        offered: {
          tags: 'loyalty',
          entry: [
            assign({ data: ({ context }) => ({ coupon: context.trigger.coupon }) }),
            j.send('win-back', ['email']),
          ],
          after: { '14d': 'lapsed' },
        },
        written: { tags: 'loyalty', entry: j.send('win-back', ['email']), after: { '14d': 'lapsed' } },
        heldOut: { tags: 'loyalty', after: { '14d': 'lapsed' } },
        lapsed: { tags: 'loyalty', type: 'final' },
      },
    }),
});
