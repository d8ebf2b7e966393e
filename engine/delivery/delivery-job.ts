import type { Channel } from '../journey/journey-schema.js';
import type { SendCommand } from '../runtime/command.js';

/** The version of the delivery jobs this code writes, and the newest it reads. */
export const DELIVERY_JOB_VERSION = 1 as const;

/**
 * One send on its way through one channel's queue. Versioned: jobs outlive deployments. Fields
 * added since version 1 are optional, with a default that is the old behaviour (`whenCapped`,
 * `cancelOnGoal`).
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

/**
 * What a send job keeps once its customer is erased while a worker runs it (so it cannot be
 * removed): what it is and which operation, without the trigger, journey data, event properties
 * and split arms that came from the customer. Its next run, if any, reads no more than this: it
 * finds the operation ended (see endErasedOperations) and sends nothing.
 */
export function erasedDeliveryData(data: DeliveryJobData): DeliveryJobData {
  return { ...data, variants: {}, trigger: {}, data: {}, event: { name: data.event.name, properties: {} } };
}
