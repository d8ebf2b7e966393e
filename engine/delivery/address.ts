import type { Address } from '../channels/channel-adapter.js';
import type { Channel } from '../journey/journey-schema.js';

const text = (value: unknown): string | undefined =>
  typeof value === 'string' && value.trim() !== '' ? value.trim() : undefined;

/**
 * Where the customer is reached on a channel, from their traits (Segment's `email` and `phone`,
 * and `pushToken`); `undefined` when they cannot be. In-app needs no address; a webhook goes to
 * the message's declared target.
 */
export function resolveAddress(
  channel: Channel,
  traits: Record<string, unknown>,
  webhookUrl: string | undefined,
): Address | undefined {
  switch (channel) {
    case 'email': {
      const email = text(traits.email);
      return email ? { email } : undefined;
    }
    case 'sms': {
      const phone = text(traits.phone);
      return phone ? { phone } : undefined;
    }
    case 'push': {
      const pushToken = text(traits.pushToken);
      return pushToken ? { pushToken } : undefined;
    }
    case 'in-app':
      return {};
    case 'webhook':
      return webhookUrl ? { webhookUrl } : undefined;
  }
}
