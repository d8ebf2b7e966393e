import { resolveAddress } from '../delivery/address.js';
import type { ConsentRecord } from './consent-record.js';
import type { SuppressionList } from './suppression-list.js';

/**
 * What lifts a one-click unsubscribe when the customer subscribes again: an email marketing grant
 * given through the consent API (`engine.consent.record`, `POST /v1/customers/:id/consent`: a
 * preference centre, a sign-up form) or by confirming a double opt-in, dated after the
 * unsubscribe, lifts it for the email address the customer has now. The answer given last holds:
 * otherwise the grant would be recorded, and every marketing email still stopped as suppressed.
 *
 * An identify's `consent` trait does not lift it: libraries send again the traits they remember
 * (analytics.js, RudderStack's `context.traits`), each dated by its call, so a grant given once
 * would undo the unsubscribe at the customer's next login. A complaint or a hard bounce is not
 * the customer's answer to take back, and stays.
 */
export type Resubscribe = (customerId: string, record: ConsentRecord) => Promise<void>;

export function createResubscribe(deps: {
  suppressions: SuppressionList;
  /** The customer's traits now, to find their email address. */
  profile: (customerId: string) => Promise<Record<string, unknown>>;
}): Resubscribe {
  return async (customerId, record) => {
    if (record.channel !== 'email' || record.topic !== 'marketing' || record.state !== 'granted') return;
    const email = resolveAddress('email', await deps.profile(customerId), undefined)?.email;
    if (email) await deps.suppressions.liftUnsubscribeBefore({ kind: 'email', value: email }, record.at);
  };
}
