import { e164PhoneNumber } from './phone-number.js';

/**
 * Our own SMS senders as Twilio names them in an inbound text: the number texts go out from
 * (SMS_FROM, written as people write numbers or in E.164) and, for a Messaging Service, its sid.
 */
export interface TwilioSenders {
  from?: string;
  messagingServiceSid?: string;
}

/**
 * Whether an inbound text was sent to one of our senders: its `To` is our number (compared in
 * E.164, so `+1 (500) 555-0006` is `+15005550006`) or its `MessagingServiceSid` is our service's.
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
  const service = senders.messagingServiceSid?.trim();
  return service !== undefined && service !== '' && text.MessagingServiceSid?.trim() === service;
}
