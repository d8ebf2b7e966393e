import { assign } from 'xstate';
import { z } from 'zod';
import { defineJourney, Revenue } from '../engine/index.js';

/** The code the cart reminder offers; the shop must accept it. */
export const CART_COUPON = 'STEEP10';

// Segment e-commerce properties the journey reads. Every field is optional in the spec, and a
// view without a name is still a view, so nothing here is required.
const product = z.object({
  product_id: z.string().optional(),
  name: z.string().optional(),
  price: z.number().optional(),
});

/** Every pre-loyalty state reacts to the goal the same way: the customer has bought. */
const ordered = { 'Order Completed': 'thanked' } as const;

/**
 * Yue Tea's lifecycle, from sign-up to the first refill: a welcome, then two days' wait for a
 * product view (awareness); a spotlight on the viewed blend or a nudge, then three days' wait for
 * an add to cart (consideration); a cart reminder with a coupon four hours after an add that no
 * order follows (decision); thanks, a review request at +7 days and a refill reminder at +30
 * days after the first order, which moves the customer here from any earlier state (loyalty).
 *
 * The order is the goal but does not end the journey, so what was sent before it still goes out
 * after it, with one exception: the cart reminder is sent with `cancelOnGoal`, and one still
 * waiting (held by quiet hours or a frequency cap, or in a backlog) when the order arrives is
 * skipped under the rule `journey-goal` rather than offering the coupon after the order.
 *
 * Traits it reads: `firstName`; `pushToken` (the spotlight goes by push too); `phone` (the nudge
 * goes by SMS when the customer granted marketing SMS consent, which the send-time policy checks,
 * and by email otherwise).
 */
export const yueTeaLifecycle = defineJourney({
  id: 'yue-tea-lifecycle',
  version: 1,
  description: 'Eastern aesthetics meets modern health: from sign-up to the first refill.',
  trigger: { event: 'Signed Up' },
  profile: z.object({
    firstName: z.string().optional(),
    phone: z.string().optional(),
    pushToken: z.string().optional(),
  }),
  events: {
    'Product Viewed': product.loose(),
    'Product Added': product.extend({ quantity: z.number().optional() }).loose(),
    'Order Completed': z.object({ order_id: z.string().optional(), revenue: Revenue.optional() }).loose(),
  },
  data: z.object({ coupon: z.string().default(CART_COUPON), product: z.string().optional() }),
  goal: { event: 'Order Completed' },
  // One welcome per customer, ever: a second sign-up (a new device, a re-registration) is not news.
  reentry: 'never',
  machine: (j) =>
    j.createMachine({
      initial: 'welcomed',
      states: {
        // The wait for a first view stays in awareness: a customer who has only been welcomed has
        // shown no interest yet, and a send is counted in the stage its transition ends in.
        welcomed: {
          tags: 'awareness',
          entry: j.send('welcome', ['email']),
          on: {
            ...ordered,
            'Product Viewed': [
              {
                guard: ({ context }) => context.profile.pushToken !== undefined,
                target: 'shopping',
                actions: [j.send('product-spotlight', ['email']), j.send('product-spotlight', ['push'])],
              },
              { target: 'shopping', actions: j.send('product-spotlight', ['email']) },
            ],
            'Product Added': 'carted',
          },
          after: { '2d': 'nudge' },
        },
        nudge: {
          tags: 'consideration',
          always: [
            // SMS first when there is a phone; whether the customer consented to marketing SMS is
            // the policy's call at send time, which falls back to email when they did not.
            {
              guard: ({ context }) => context.profile.phone !== undefined,
              target: 'shopping',
              actions: j.send('nudge', ['sms', 'email']),
            },
            { target: 'shopping', actions: j.send('nudge', ['email']) },
          ],
        },
        shopping: {
          tags: 'consideration',
          on: { ...ordered, 'Product Added': 'carted' },
          after: { '3d': 'lapsed' },
        },
        carted: {
          tags: 'decision',
          entry: assign({
            data: ({ context, event }) => ({
              ...context.data,
              product: event.type === 'Product Added' ? event.properties.name : context.data.product,
            }),
          }),
          on: ordered,
          // The coupon is pointless once the order is in: a reminder a quiet hour or a frequency cap
          // still holds when the customer orders is dropped. The welcome and spotlight are not.
          after: {
            '4h': { target: 'reminded', actions: j.send('cart-reminder', ['email'], { cancelOnGoal: true }) },
          },
        },
        reminded: { tags: 'decision', on: ordered, after: { '3d': 'abandoned' } },
        thanked: {
          tags: 'loyalty',
          entry: j.send('thank-you', ['email']),
          after: { '7d': { target: 'reviewing', actions: j.send('review-request', ['email']) } },
        },
        // 23 days after the review request is 30 days after the order: about when a tin runs out.
        reviewing: {
          tags: 'loyalty',
          after: { '23d': { target: 'completed', actions: j.send('replenish', ['email']) } },
        },
        lapsed: { tags: 'consideration', type: 'final' },
        abandoned: { tags: 'decision', type: 'final' },
        completed: { tags: 'loyalty', type: 'final' },
      },
    }),
});
