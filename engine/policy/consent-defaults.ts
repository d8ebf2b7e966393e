import type { ConsentChannel, Topic } from './topic.js';

/**
 * What holds for a customer with no consent record for a channel and topic, as Braze and
 * Customer.io users expect it:
 *
 * - email marketing: allowed (opt-out, the unsubscribe link is the way out), unless double opt-in
 *   is on, when only a confirmed grant allows it;
 * - SMS marketing: never without an explicit grant (TCPA and carrier rules ask for one);
 * - push and in-app marketing: allowed: the device's notification permission, or being in the
 *   app, is the opt-in;
 * - transactional on any channel: allowed; only an explicit refusal stops it.
 */
export function defaultConsent(
  channel: ConsentChannel,
  topic: Topic,
  options: { doubleOptIn: boolean },
): { allowed: true } | { allowed: false; why: string } {
  if (topic === 'transactional') return { allowed: true };
  if (channel === 'sms') return { allowed: false, why: 'SMS marketing needs an explicit grant' };
  if (channel === 'email' && options.doubleOptIn)
    return { allowed: false, why: 'with double opt-in on, email marketing needs a confirmed grant' };
  return { allowed: true };
}
