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
  record: () => Promise<void>,
): Promise<void> {
  if (call.messageId === undefined) return record();
  const marker = store.keys(call.userId).consentTaken(call.messageId);
  if ((await store.redis.exists(marker)) === 1) return;
  await record();
  await store.redis.set(marker, '1', 'EX', store.dedupeSeconds);
}
