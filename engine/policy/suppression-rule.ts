import type { DeliveryPolicy } from '../delivery/delivery-policy.js';
import {
  holdsAt,
  normaliseAddress,
  suppressibleAddress,
  type SuppressedAddress,
  type SuppressionList,
} from './suppression-list.js';

const iso = (ms: number) => new Date(ms).toISOString();

const ADDRESS_NAME: Record<SuppressedAddress['kind'], string> = {
  email: 'email address',
  phone: 'phone number',
  push: 'push token',
};

/**
 * The suppression list, read at send time for the address the send would go to (by the delivery
 * worker along with the traits, on a single Redis: see send-state.ts). A hard bounce
 * stops every message to the address; an unsubscribe or a complaint stops marketing only, so a
 * receipt still reaches a customer who left the newsletter. A stopped send is rerouted to the
 * message's next channel. (A customer who subscribes again through the consent API or a double
 * opt-in link lifts their address's unsubscribe there: see resubscribe.ts.)
 */
export function suppressionRule(list: SuppressionList): DeliveryPolicy {
  return {
    async check({ channel, address, topic = 'marketing', suppression, now }) {
      const target = suppressibleAddress(channel, address);
      if (!target) return { action: 'send' };
      // Read ahead with the traits, when it was of this list and this very address; else read now.
      const readAhead = suppression?.list === list.key && suppression.address === normaliseAddress(target);
      const entries = (readAhead ? suppression.entries : await list.check(target)).filter((entry) =>
        holdsAt(entry, now),
      );
      const bounce = entries.find((e) => e.reason === 'hard-bounce');
      const blocking = bounce ?? (topic === 'marketing' ? entries[0] : undefined);
      if (!blocking) return { action: 'send' };
      const why = `the ${ADDRESS_NAME[target.kind]} is suppressed (${blocking.reason} at ${iso(blocking.at)}, ${blocking.source})`;
      return { action: 'reroute', reason: why };
    },
  };
}
