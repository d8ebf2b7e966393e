import type { DeliveryPolicy } from '../delivery/delivery-policy.js';
import { defaultConsent } from './consent-defaults.js';
import type { ConsentStore } from './consent-store.js';
import type { ConsentRecord } from './consent-record.js';
import { ConsentChannel, type Topic } from './topic.js';

const iso = (ms: number) => new Date(ms).toISOString();

/**
 * Before the consent store, a one-click unsubscribe set this trait. Customers who carry it and
 * have no email marketing record since are still treated as having refused.
 */
const LEGACY_UNSUBSCRIBED_TRAIT = 'emailUnsubscribedAt';

/** A customer's answer as the verdict needs it: its evidence is absent in a simulation. */
export type ConsentAnswerState = Pick<ConsentRecord, 'state'> & Partial<Pick<ConsentRecord, 'at' | 'source'>>;

/**
 * What consent allows for a channel and topic, from the customer's answer (none: the legacy
 * unsubscribe trait, then {@link defaultConsent}). The one decision of the consent rule, shared
 * with the CLI's simulation (trait-consent.ts).
 */
export function consentVerdict(
  answer: ConsentAnswerState | undefined,
  traits: Record<string, unknown>,
  channel: ConsentChannel,
  topic: Topic,
  options: { doubleOptIn: boolean },
): { allowed: true } | { allowed: false; why: string } {
  const what = `${channel} ${topic} consent`;
  if (answer?.state === 'denied') {
    const evidence = answer.at === undefined ? '' : ` at ${iso(answer.at)} (${answer.source})`;
    return { allowed: false, why: `${what} was refused${evidence}` };
  }
  if (answer?.state === 'pending' && topic === 'marketing') {
    const asked = answer.at === undefined ? '' : ` (asked at ${iso(answer.at)})`;
    return { allowed: false, why: `${what} awaits double opt-in confirmation${asked}` };
  }
  if (answer) return { allowed: true };
  const legacy = traits[LEGACY_UNSUBSCRIBED_TRAIT];
  if (channel === 'email' && topic === 'marketing' && typeof legacy === 'string')
    return { allowed: false, why: `${what} was refused at ${legacy} (one-click unsubscribe)` };
  const fallback = defaultConsent(channel, topic, options);
  return fallback.allowed ? fallback : { allowed: false, why: `no ${what} on record: ${fallback.why}` };
}

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
      const verdict = consentVerdict(record, traits, consentChannel.data, topic, options);
      return verdict.allowed ? { action: 'send' } : { action: 'reroute', reason: verdict.why };
    },
  };
}
