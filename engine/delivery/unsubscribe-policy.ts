import type { DeliveryPolicy } from './delivery-policy.js';

/** The trait a one-click unsubscribe sets on the customer: when they left marketing email (ISO 8601). */
export const EMAIL_UNSUBSCRIBED_TRAIT = 'emailUnsubscribedAt';

/**
 * The default policy: honour one-click unsubscribes. Checked at send time, so a send already
 * queued when the customer unsubscribes does not go out; the journey's other channels still do.
 */
export const respectUnsubscribes: DeliveryPolicy = {
  check: async ({ channel, traits }) => {
    const since = traits[EMAIL_UNSUBSCRIBED_TRAIT];
    if (channel === 'email' && typeof since === 'string')
      return { action: 'reroute', reason: `unsubscribed from marketing email at ${since}` };
    return { action: 'send' };
  },
};
