import { z } from 'zod';
import { defineWebhookSource } from '../engine/index.js';

/**
 * The shop's order webhooks, signed per Standard Webhooks with a secret from
 * WEBHOOK_SOURCE_SECRETS (`shop=whsec_…`), arrive at POST /v1/webhooks/shop.
 */
export const shop = defineWebhookSource({
  id: 'shop',
  payload: z.object({
    type: z.string(),
    data: z.object({
      customerId: z.string().min(1),
      orderId: z.string().min(1),
      total: z.number().optional(),
    }),
  }),
  // Only paid orders matter to journeys; every other type is acknowledged and ignored.
  toTrack: ({ type, data }) =>
    type === 'order.paid'
      ? {
          userId: data.customerId,
          event: 'Order Completed',
          properties: { orderId: data.orderId, revenue: data.total },
        }
      : undefined,
});
