import type { ConsentMarker } from '../policy/consent-store.js';
import type { CustomerStore } from '../store/customer-store.js';

/**
 * Records the `consent` trait of an identify call once per client `messageId`, as its event is
 * applied once: a client retrying the call (a timeout, an offline queue flushed later) must not
 * grant again what the customer has withdrawn since.
 *
 * The consent is not written in the same step as the event, so "the event was a duplicate" does
 * not prove that the consent was recorded (the first try may have died between the two). A marker
 * set in the same step as the answers, for as long as the message id is remembered, says that it
 * was: a retry without one records the consent, a retry with one leaves it alone. Set any later,
 * a try that failed after its answers were written (asking for a double opt-in confirmation, say)
 * would leave none while the next call of a batch set its own, and the retried batch would write
 * the first call's grant again over the next one's refusal. A call without a `messageId` cannot
 * be retried as the same call and always records.
 */
export async function recordConsentOnce(
  store: CustomerStore,
  call: { userId: string; messageId?: string | undefined },
  /** Records the answers, none while the `marker` key exists, and sets it with them. */
  record: (marker?: ConsentMarker) => Promise<void>,
): Promise<void> {
  if (call.messageId === undefined) return record();
  // The marker is checked by the write itself, not in a round trip before: the write is then
  // the call's first command, so a batch's calls (with a messageId or without) still reach Redis
  // in batch order, and a withdrawal later in the batch is not overtaken by the grant before it.
  await record({ key: store.keys(call.userId).consentTaken(call.messageId), seconds: store.dedupeSeconds });
}
