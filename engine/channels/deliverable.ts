import type { Channel } from '../journey/journey-schema.js';
import type { RenderedFor } from '../messages/rendered-message.js';
import type { Address, Delivery } from './channel-adapter.js';
import type { NotSent } from './http-result.js';

/** A delivery an adapter can send, or the permanent failure that says why it cannot. */
export type Checked<T> = ({ ok: true } & T) | { ok: false; result: NotSent };

const ADAPTER_NAMES: Record<Channel, string> = {
  email: 'email',
  sms: 'SMS',
  push: 'push',
  'in-app': 'in-app',
  webhook: 'webhook',
};

const ADDRESS_NAMES: Record<keyof Address, string> = {
  email: 'email address',
  phone: 'phone number',
  pushToken: 'push token',
  webhookUrl: 'webhook URL',
};

/**
 * The delivery's message, typed for `channel`. A message rendered for another channel is a
 * wiring fault that no retry mends, so it fails for good.
 */
export function renderedFor<C extends Channel>(
  delivery: Delivery,
  channel: C,
): Checked<{ rendered: RenderedFor<C> }> {
  const { rendered } = delivery;
  if (rendered.channel === channel) return { ok: true, rendered: rendered as RenderedFor<C> };
  const reason = `the ${ADAPTER_NAMES[channel]} adapter was given a message rendered for ${rendered.channel}`;
  return { ok: false, result: { status: 'failed', reason } };
}

/**
 * `renderedFor`, plus the customer's address the channel sends to (`to`). A customer without
 * one fails for good without any request: their traits must change first.
 *
 * @example
 * ```ts
 * const ready = deliverable(delivery, 'sms', 'phone');
 * if (!ready.ok) return ready.result;
 * send(ready.to, ready.rendered.body);
 * ```
 */
export function deliverable<C extends Channel>(
  delivery: Delivery,
  channel: C,
  needs: keyof Address,
): Checked<{ rendered: RenderedFor<C>; to: string }> {
  const checked = renderedFor(delivery, channel);
  if (!checked.ok) return checked;
  const to = delivery.address[needs];
  if (!to) {
    const reason = `customer ${delivery.customerId} has no ${ADDRESS_NAMES[needs]}`;
    return { ok: false, result: { status: 'failed', reason } };
  }
  return { ok: true, rendered: checked.rendered, to };
}
