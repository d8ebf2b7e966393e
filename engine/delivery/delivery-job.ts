import type { Channel } from '../journey/journey-schema.js';
import type { SendCommand } from '../runtime/command.js';

/** The version of the delivery jobs this code writes, and the newest it reads. */
export const DELIVERY_JOB_VERSION = 1 as const;

/**
 * One send on its way through one channel's queue. Versioned: jobs outlive deployments. Fields
 * added since version 1 are optional, with a default that is the old behaviour (`whenCapped`).
 */
export interface DeliveryJobData extends SendCommand {
  v: typeof DELIVERY_JOB_VERSION;
  /** The channel whose queue holds this job; `channels` keeps the whole preference list. */
  channel: Channel;
}

/** A queue per channel, so one slow provider never holds up the others. */
export function deliveryQueueName(channel: Channel): string {
  return `deliveries-${channel}`;
}

export { variantLabel } from '../messages/utm.js';
