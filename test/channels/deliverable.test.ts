import { describe, expect, it } from 'vitest';
import { deliverable, renderedFor } from '../../engine/channels/deliverable.js';
import { deliveryFor } from './support.js';

describe('a delivery checked before sending', () => {
  it.each([
    ['email', 'email', 'ada@example.com'],
    ['sms', 'phone', '+15005550006'],
    ['push', 'pushToken', 'device-token-1'],
  ] as const)('on %s carries its message and the customer %s', (channel, needs, to) => {
    const delivery = deliveryFor(channel);
    expect(deliverable(delivery, channel, needs)).toEqual({ ok: true, rendered: delivery.rendered, to });
  });

  it.each([
    ['sms', 'SMS'],
    ['push', 'push'],
    ['in-app', 'in-app'],
    ['webhook', 'webhook'],
  ] as const)('fails for good when a %s adapter is handed an email', (channel, name) => {
    expect(renderedFor(deliveryFor('email'), channel)).toEqual({
      ok: false,
      result: { status: 'failed', reason: `the ${name} adapter was given a message rendered for email` },
    });
  });

  it.each([
    ['email', 'email', 'email address'],
    ['sms', 'phone', 'phone number'],
    ['push', 'pushToken', 'push token'],
  ] as const)('fails for good on %s when the customer has no %s', (channel, needs, what) => {
    expect(deliverable(deliveryFor(channel, { address: {} }), channel, needs)).toEqual({
      ok: false,
      result: { status: 'failed', reason: `customer ada has no ${what}` },
    });
  });
});
