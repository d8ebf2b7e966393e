import { ConsentTrait } from './consent-record.js';
import { consentVerdict } from './consent-rule.js';
import { ConsentChannel, type Topic } from './topic.js';

/**
 * What the consent rule decides for a customer whose only answers are those of their `consent`
 * trait, as an identify call records them: for the CLI's simulation and preview, which have a
 * profile and no consent store. A grant that double opt-in holds back (email marketing) waits
 * for its confirmation, as the consent service records it.
 */
export function consentOfTraits(
  traits: Record<string, unknown>,
  channel: string,
  topic: Topic,
  options: { doubleOptIn: boolean },
): { allowed: true } | { allowed: false; why: string } {
  const consentChannel = ConsentChannel.safeParse(channel);
  // Webhooks reach systems, not people: consent does not speak about them.
  if (!consentChannel.success) return { allowed: true };
  const parsed = ConsentTrait.safeParse(traits.consent);
  const answer = parsed.success ? parsed.data[consentChannel.data]?.[topic] : undefined;
  if (answer === undefined) return consentVerdict(undefined, traits, consentChannel.data, topic, options);
  const granted = typeof answer === 'boolean' ? answer : answer.granted;
  const held = options.doubleOptIn && channel === 'email' && topic === 'marketing';
  const state = granted ? (held ? 'pending' : 'granted') : 'denied';
  return consentVerdict({ state }, traits, consentChannel.data, topic, options);
}
