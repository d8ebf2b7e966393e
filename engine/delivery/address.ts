import type { Address } from '../channels/channel-adapter.js';
import type { Channel } from '../journey/journey-schema.js';

const text = (value: unknown): string | undefined =>
  typeof value === 'string' && value.trim() !== '' ? value.trim() : undefined;

// One mailbox, nothing an address list or a header could read more into: no spaces or line
// breaks, no quotes, brackets, commas or semicolons (which would add recipients or a display
// name), exactly one `@`.
const PLAIN_EMAIL = /^[^\s\p{Cc}@"(),:;<>[\]\\]{1,64}@[^\s\p{Cc}@"(),:;<>[\]\\]{1,255}$/u;

/**
 * Whether `value` is one plain email address (`ada@example.com`, Unicode allowed), safe to hand
 * to a mail transport as its only recipient. `"a@b.c\r\nBcc: x@y"` or `"a@b.c, x@y"` would
 * otherwise be read by the transport as other recipients.
 */
export function isPlainEmailAddress(value: string): boolean {
  return value.length <= 320 && PLAIN_EMAIL.test(value);
}

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
      // An address stored before ingest checked it, or set by a journey, is not sent to.
      const email = text(traits.email);
      return email && isPlainEmailAddress(email) ? { email } : undefined;
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
