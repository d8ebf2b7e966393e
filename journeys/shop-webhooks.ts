import { z } from 'zod';
import { defineWebhookSource } from '../engine/index.js';

const PaidOrder = z.object({
  customerId: z.string().min(1),
  orderId: z.string().min(1),
  total: z.number().optional(),
});

/**
 * The shop's order webhooks, signed per Standard Webhooks with a secret from
 * WEBHOOK_SOURCE_SECRETS (`shop=whsec_…`), arrive at POST /v1/webhooks/shop.
 */
export const shop = defineWebhookSource({
  id: 'shop',
  // Only paid orders matter to journeys, so only their data is checked: every other type, whatever
  // its data, is acknowledged and ignored (refused, the shop would send it again, for days).
  payload: z.object({ type: z.string(), data: z.unknown().optional() }).transform(({ type, data }, ctx) => {
    if (type !== 'order.paid') return undefined;
    const order = PaidOrder.safeParse(data);
    if (order.success) return order.data;
    for (const issue of order.error.issues)
      ctx.addIssue({ code: 'custom', path: ['data', ...issue.path], message: issue.message });
    return z.NEVER;
  }),
  toTrack: (order) =>
    order && {
      userId: order.customerId,
      event: 'Order Completed',
      properties: { orderId: order.orderId, revenue: order.total },
    },
});
