import { defaultConsent } from './consent-defaults.js';
import { ConsentTrait } from './consent-record.js';
import { ConsentChannel, type Topic } from './topic.js';

/**
 * What the consent rule decides for a customer whose only answers are those of their `consent`
 * trait, as an identify call records them: for the CLI's simulation and preview, which have a
 * profile and no consent store. A grant that double opt-in holds back (email marketing) waits
 * for its confirmation; no answer falls back to {@link defaultConsent}.
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
  const what = `${channel} ${topic} consent`;
  if (answer === undefined) {
    // Before the consent store, a one-click unsubscribe set this trait (see consentRule).
    if (channel === 'email' && topic === 'marketing' && typeof traits.emailUnsubscribedAt === 'string')
      return {
        allowed: false,
        why: `${what} was refused at ${traits.emailUnsubscribedAt} (one-click unsubscribe)`,
      };
    const fallback = defaultConsent(consentChannel.data, topic, options);
    return fallback.allowed ? fallback : { allowed: false, why: `no ${what} on record: ${fallback.why}` };
  }
  const granted = typeof answer === 'boolean' ? answer : answer.granted;
  if (!granted) return { allowed: false, why: `${what} was refused` };
  if (options.doubleOptIn && channel === 'email' && topic === 'marketing')
    return { allowed: false, why: `${what} awaits double opt-in confirmation` };
  return { allowed: true };
}
