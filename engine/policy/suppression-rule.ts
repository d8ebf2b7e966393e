import type { DeliveryPolicy, PolicyInput } from '../delivery/delivery-policy.js';
import type { ConsentStore } from './consent-store.js';
import {
  normaliseAddress,
  suppressibleAddress,
  type SuppressedAddress,
  type SuppressionEntry,
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
 * message's next channel.
 *
 * An unsubscribe no longer stops the marketing of a customer who granted it again since (their
 * consent record for the channel is `granted`, at a later time: a preference centre, a sign-up
 * form), as the answer given last holds; it still stops everyone else at the address. `consent`
 * reads that record when the caller did not read it ahead (see PolicyInput.consent); without
 * either, an unsubscribe stops marketing for good.
 */
export function suppressionRule(list: SuppressionList, consent?: ConsentStore): DeliveryPolicy {
  /**
   * Whether the customer granted email marketing after `at`. Email only: a text's opt-out is the
   * carrier's (a STOP reply, Twilio's 21610), which refuses every text to the number until the
   * customer replies START (which lifts the entry), whatever they granted on a form.
   */
  async function grantedSince(input: PolicyInput, at: number): Promise<boolean> {
    if (input.channel !== 'email') return false;
    const record = input.consent
      ? input.consent.record
      : await consent?.get(input.job.customerId, 'email', 'marketing');
    return record?.state === 'granted' && record.at > at;
  }

  return {
    async check(input) {
      const { channel, address, topic = 'marketing', suppression } = input;
      const target = suppressibleAddress(channel, address);
      if (!target) return { action: 'send' };
      // Read ahead with the traits, when it was of this list and this very address; else read now.
      const readAhead = suppression?.list === list.key && suppression.address === normaliseAddress(target);
      const entries = readAhead ? suppression.entries : await list.check(target);
      let blocking: SuppressionEntry | undefined = entries.find((e) => e.reason === 'hard-bounce');
      if (!blocking && topic === 'marketing') {
        for (const entry of entries) {
          if (entry.reason === 'unsubscribe' && (await grantedSince(input, entry.at))) continue;
          blocking = entry;
          break;
        }
      }
      if (!blocking) return { action: 'send' };
      const why = `the ${ADDRESS_NAME[target.kind]} is suppressed (${blocking.reason} at ${iso(blocking.at)}, ${blocking.source})`;
      return { action: 'reroute', reason: why };
    },
  };
}
