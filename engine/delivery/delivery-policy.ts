import type { Channel } from '../journey/journey-schema.js';
import type { DeliveryJobData } from './delivery-job.js';

/** What the policy layer decides for one send, at send time. */
export type PolicyDecision =
  | { action: 'send' }
  | { action: 'skip'; reason: string }
  | { action: 'reroute'; reason: string }
  | { action: 'delay'; untilMs: number; reason: string };

/**
 * The hook every send passes through just before it goes out: consent, suppression, frequency
 * caps and quiet hours live behind it. It runs at send time, not at enqueue time, so an
 * unsubscribe that arrives while a send waits in the queue still stops it.
 */
export interface DeliveryPolicy {
  check(input: {
    job: DeliveryJobData;
    channel: Channel;
    traits: Record<string, unknown>;
    now: number;
  }): Promise<PolicyDecision>;
}

export const allowAll: DeliveryPolicy = { check: async () => ({ action: 'send' }) };
