import { z } from 'zod';

/**
 * Why a message is sent. `marketing` needs the customer's consent and honours unsubscribes;
 * `transactional` (a receipt, a password reset) is sent unless the address hard-bounced or the
 * customer refused that channel's transactional messages outright.
 */
export const Topic = z.enum(['marketing', 'transactional']);
export type Topic = z.infer<typeof Topic>;

/** The channels a person is reached on, so the ones consent and suppression speak about. */
export const ConsentChannel = z.enum(['email', 'sms', 'push', 'in-app']);
export type ConsentChannel = z.infer<typeof ConsentChannel>;

/**
 * The topic of a send, as the delivery worker passes it from the message. A caller that names
 * none is treated as marketing, the cautious reading: capped and kept out of quiet hours.
 */
export function topicOf(input: { topic?: Topic | undefined }): Topic {
  return input.topic === 'transactional' ? 'transactional' : 'marketing';
}
