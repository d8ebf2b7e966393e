import type { DeliveryJobData } from '../../engine/index.js';

/** A send of `nudge` to customer u1, preferring email then SMS, as the policy rules see it. */
export const nudgeJob: DeliveryJobData = {
  v: 1,
  type: 'send',
  channel: 'email',
  opId: 'op-1',
  customerId: 'u1',
  journeyId: 'notify',
  journeyVersion: 1,
  instanceId: 'i-1',
  state: 'sent',
  stage: 'consideration',
  message: 'nudge',
  channels: ['email', 'sms'],
  variants: {},
  trigger: {},
  data: {},
  event: { name: 'Notify', properties: {} },
  at: 0,
};
