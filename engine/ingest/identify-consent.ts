import type { CustomerStore } from '../store/customer-store.js';

/**
 * Records the `consent` trait of an identify call once per client `messageId`, as its event is
 * applied once: a client retrying the call (a timeout, an offline queue flushed later) must not
 * grant again what the customer has withdrawn since.
 *
 * The consent is not written in the same step as the event, so "the event was a duplicate" does
 * not prove that the consent was recorded (the first try may have died between the two). A marker
 * set after the consent is written, for as long as the message id is remembered, says that it was:
 * a retry without one records the consent, a retry with one leaves it alone. A call without a
 * `messageId` cannot be retried as the same call and always records.
 */
export async function recordConsentOnce(
  store: CustomerStore,
  call: { userId: string; messageId?: string | undefined },
  /** Records the answers, none while the key `unlessMarked` exists. */
  record: (unlessMarked?: string) => Promise<void>,
): Promise<void> {
  if (call.messageId === undefined) return record();
  // The marker is checked by each write itself, not in a round trip before: the write is then
  // the call's first command, so a batch's calls (with a messageId or without) still reach Redis
  // in batch order, and a withdrawal later in the batch is not overtaken by the grant before it.
  const marker = store.keys(call.userId).consentTaken(call.messageId);
  await record(marker);
  await store.redis.set(marker, '1', 'EX', store.dedupeSeconds);
}
