import type { Address } from '../channels/channel-adapter.js';
import type { Channel } from '../journey/journey-schema.js';
import type { CoreMessage } from '../messages/message-catalog.js';
import type { ConsentRecord } from '../policy/consent-record.js';
import type { SuppressionLookup } from '../policy/suppression-list.js';
import type { Topic } from '../policy/topic.js';
import type { DeliveryJobData } from './delivery-job.js';

/**
 * What the policy layer decides for one send, at send time. `rule` names the rule that decided
 * (set by a policy chain); the customer's message list and the metrics show it.
 */
export type PolicyDecision =
  | { action: 'send' }
  | { action: 'skip'; reason: string; rule?: string }
  | { action: 'reroute'; reason: string; rule?: string }
  | { action: 'delay'; untilMs: number; reason: string; rule?: string };

/** What a policy sees of one send. */
export interface PolicyInput {
  job: DeliveryJobData;
  channel: Channel;
  traits: Record<string, unknown>;
  now: number;
  /** The message's topic; the delivery worker always passes it, absent means `marketing`. */
  topic?: Topic;
  /** The core message being sent, when the catalog has it. */
  message?: CoreMessage;
  /** Where this channel would deliver it (email address, phone, push token), once resolved. */
  address?: Address;
  /**
   * The customer's consent record for this channel and topic, when the caller read it along with
   * the traits (the delivery worker does, in the same round trip); `record` is undefined when
   * none is stored. Absent: a rule that needs it reads it itself.
   */
  consent?: { record: ConsentRecord | undefined };
  /**
   * What the suppression list holds for the customer's address on this channel, when the caller
   * read it along with the traits. A rule uses it only if it names the list and the address the
   * rule checks.
   */
  suppression?: SuppressionLookup;
}

/**
 * The hook every send passes through just before it goes out: consent, suppression, frequency
 * caps and quiet hours live behind it. It runs at send time, not at enqueue time, so an
 * unsubscribe that arrives while a send waits in the queue still stops it.
 */
export interface DeliveryPolicy {
  check(input: PolicyInput): Promise<PolicyDecision>;
  /**
   * Called when a send this policy may have let through ended without going out on this channel
   * (the provider refused it, rendering failed, its retries ran out; or a later attempt was
   * skipped or rerouted): gives back what the check took for it, such as a frequency cap's slot.
   * Not called for an `unknown` outcome, which may have arrived.
   */
  release?(input: { job: DeliveryJobData; channel: Channel; now: number }): Promise<void>;
}

export const allowAll: DeliveryPolicy = { check: async () => ({ action: 'send' }) };
