import type { IngestOptions } from '../ingest/inbox-intake.js';
import type { CustomerStore } from '../store/customer-store.js';
import { customersWithPhone } from '../store/phone-index.js';
import type { ConsentStore } from './consent-store.js';

/** What a customer's STOP is tracked as: the event a one-click unsubscribe tracks, for SMS. */
export const SMS_OPT_OUT_EVENT = 'Unsubscribed';
/** What a customer's START is tracked as, so a journey can wait for or branch on it. */
export const SMS_OPT_IN_EVENT = 'Subscribed';

export interface SmsReplyDependencies {
  store: CustomerStore;
  consent: { store: ConsentStore };
  track: (
    input: { userId: string; event: string; properties: Record<string, unknown>; messageId: string },
    options?: IngestOptions,
  ) => Promise<unknown>;
}

export interface SmsReply {
  /** The number the text came from, E.164. */
  phone: string;
  keyword: 'opt-out' | 'opt-in';
  /** When the text arrived (Twilio's webhook gives no time of its own), epoch ms. */
  at: number;
  /** What the consent records name as their source: `twilio inbound STOP`. */
  source: string;
  /** Twilio's id of the text: a redelivery of it tracks no second event. */
  messageSid: string;
}

/**
 * Records a STOP or START for every customer whose `phone` trait is the number it came from, as
 * a one-click unsubscribe records its refusal: SMS marketing consent `denied` (a START: `granted`,
 * dated by its arrival), and `Unsubscribed` (`Subscribed`) tracked with `{ channel: 'sms', topic:
 * 'marketing' }`, so journeys can exit or branch on it. Only for customers the engine knows,
 * checked in the same atomic step as each write: an erased one's id is not written back. Answers
 * the ids recorded for.
 */
export async function recordSmsReply(deps: SmsReplyDependencies, reply: SmsReply): Promise<string[]> {
  const optOut = reply.keyword === 'opt-out';
  const recorded: string[] = [];
  for (const customerId of await customersWithPhone(deps.store, reply.phone)) {
    const written = await deps.consent.store.writeIfKnown(customerId, [
      {
        record: {
          channel: 'sms',
          topic: 'marketing',
          state: optOut ? 'denied' : 'granted',
          at: reply.at,
          source: reply.source,
        },
      },
    ]);
    if (written === undefined) continue;
    recorded.push(customerId);
    await deps.track(
      {
        userId: customerId,
        event: optOut ? SMS_OPT_OUT_EVENT : SMS_OPT_IN_EVENT,
        properties: { channel: 'sms', topic: 'marketing' },
        // The text names the event: Twilio's retry of it is one event.
        messageId: `sms-${reply.messageSid}`,
      },
      { knownOnly: true },
    );
  }
  return recorded;
}
