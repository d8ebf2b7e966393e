import type { DeliveryPolicy } from '../delivery/delivery-policy.js';
import { defaultConsent } from './consent-defaults.js';
import type { ConsentStore } from './consent-store.js';
import { ConsentChannel } from './topic.js';

const iso = (ms: number) => new Date(ms).toISOString();

/**
 * Before the consent store, a one-click unsubscribe set this trait. Customers who carry it and
 * have no email marketing record since are still treated as having refused.
 */
const LEGACY_UNSUBSCRIBED_TRAIT = 'emailUnsubscribedAt';

/**
 * Consent per channel and topic, read at send time. A refusal, or a double opt-in still waiting
 * for its confirmation, reroutes the send to the message's next channel; no record falls back to
 * {@link defaultConsent}. Webhooks reach systems, not people, and are not asked.
 */
export function consentRule(options: { store: ConsentStore; doubleOptIn: boolean }): DeliveryPolicy {
  return {
    async check({ job, channel, traits, topic = 'marketing', consent }) {
      const consentChannel = ConsentChannel.safeParse(channel);
      if (!consentChannel.success) return { action: 'send' };
      const record = consent
        ? consent.record
        : await options.store.get(job.customerId, consentChannel.data, topic);
      const what = `${channel} ${topic} consent`;
      if (record?.state === 'denied')
        return { action: 'reroute', reason: `${what} was refused at ${iso(record.at)} (${record.source})` };
      if (record?.state === 'pending' && topic === 'marketing')
        return {
          action: 'reroute',
          reason: `${what} awaits double opt-in confirmation (asked at ${iso(record.at)})`,
        };
      if (record) return { action: 'send' };
      const legacy = traits[LEGACY_UNSUBSCRIBED_TRAIT];
      if (channel === 'email' && topic === 'marketing' && typeof legacy === 'string')
        return { action: 'reroute', reason: `${what} was refused at ${legacy} (one-click unsubscribe)` };
      const fallback = defaultConsent(consentChannel.data, topic, options);
      return fallback.allowed
        ? { action: 'send' }
        : { action: 'reroute', reason: `no ${what} on record: ${fallback.why}` };
    },
  };
}
