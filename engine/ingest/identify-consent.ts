import type { ConsentMarker } from '../policy/consent-store.js';
import type { CustomerStore } from '../store/customer-store.js';

/**
 * The marker that records an identify call's `consent` trait once per client `messageId`, as its
 * event is applied once: a client retrying the call (a timeout, an offline queue flushed later)
 * must not grant again what the customer has withdrawn since. None for a call without a
 * `messageId`, which cannot be retried as the same call and always records.
 *
 * The consent is not written in the same step as the event, so "the event was a duplicate" does
 * not prove that the consent was recorded (the first try may have died between the two). The
 * consent write checks the marker and sets it in the same script as the answers, for as long as
 * the message id is remembered. Set any later, a try that failed after its answers were written
 * (asking for a double opt-in confirmation, say) would leave none while the next call of a batch
 * set its own, and the retried batch would write the first call's grant again over the next
 * one's refusal. Checked in a round trip before, the write would no longer be the call's first
 * command, and a batch's calls would no longer reach Redis in batch order.
 */
export function identifyConsentMarker(
  store: CustomerStore,
  call: { userId: string; messageId?: string | undefined },
): ConsentMarker | undefined {
  if (call.messageId === undefined) return undefined;
  return { key: store.keys(call.userId).consentTaken(call.messageId), seconds: store.dedupeSeconds };
}
