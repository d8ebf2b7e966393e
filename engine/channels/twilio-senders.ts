import { e164PhoneNumber } from './phone-number.js';

/**
 * Our own SMS senders as Twilio names them in an inbound text: the number texts go out from
 * (SMS_FROM, written as people write numbers or in E.164) and, for a Messaging Service, its sid.
 */
export interface TwilioSenders {
  from?: string;
  messagingServiceSid?: string;
}

/** A Messaging Service's sid, as Twilio writes it: MG and 32 hexadecimal digits. */
const MESSAGING_SERVICE_SID = /^MG[0-9a-f]{32}$/i;

/**
 * Whether an inbound text was sent to one of our senders: its `To` is our number (compared in
 * E.164, so `+1 (500) 555-0006` is `+15005550006`) or its `MessagingServiceSid` is our service's
 * (configured as such, or given as SMS_FROM, which Twilio takes as From).
 * One Twilio account holds many numbers, each signed with the same auth token: a STOP to another
 * brand's number whose webhook points here is no opt-out from ours. An alphanumeric sender takes
 * no replies, so with only one nothing is ours.
 *
 * @example
 * isAddressedToUs({ from: '+15005550006' }, { To: '+1 500 555 0006' }); // true
 * isAddressedToUs({ from: '+15005550006' }, { To: '+15005550999' }); // false
 */
export function isAddressedToUs(
  senders: TwilioSenders,
  text: { To?: string | undefined; MessagingServiceSid?: string | undefined },
): boolean {
  const ours = senders.from === undefined ? undefined : e164PhoneNumber(senders.from);
  const to = text.To === undefined ? undefined : e164PhoneNumber(text.To);
  if (ours !== undefined && to === ours) return true;
  // Twilio takes a Messaging Service's sid as From too: SMS_FROM may be one.
  const fromService = MESSAGING_SERVICE_SID.test(senders.from?.trim() ?? '')
    ? senders.from?.trim()
    : undefined;
  const given = text.MessagingServiceSid?.trim();
  return [senders.messagingServiceSid?.trim(), fromService].some(
    (service) => service !== undefined && service !== '' && given === service,
  );
}
