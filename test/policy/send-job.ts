import type { DeliveryJobData } from '../../engine/index.js';

/** A delivery job as the policies see it, for customer `customerId` and operation `opId`. */
export function sendJob(overrides: Partial<DeliveryJobData> = {}): DeliveryJobData {
  return {
    v: 1,
    type: 'send',
    opId: 'op-1',
    customerId: 'ada',
    journeyId: 'welcome',
    journeyVersion: 1,
    instanceId: 'welcome-1',
    state: 'welcomed',
    stage: 'awareness',
    message: 'welcome',
    channels: ['email'],
    channel: 'email',
    variants: {},
    trigger: {},
    data: {},
    event: { name: 'Signed Up', properties: {} },
    at: 0,
    ...overrides,
  };
}
