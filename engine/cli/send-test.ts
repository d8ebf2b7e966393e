import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import type { ChannelAdapter } from '../channels/channel-adapter.js';
import { InvalidInputError } from '../ingest/ingest-schema.js';
import type { RenderedMessage } from '../messages/rendered-message.js';
import type { Topic } from '../policy/topic.js';
import { SendTestError } from './cli-errors.js';

/**
 * One plain mailbox, nothing else: no display name, no list, no line break that could smuggle
 * headers, no quoted local part, and a domain with a dot.
 */
const TestAddress = z
  .string()
  .max(254, 'at most 254 characters')
  .regex(/^[^\s<>()[\]\\,;:"]+$/, 'one plain address, without a name, spaces, commas, quotes or line breaks')
  .pipe(z.email('an address such as you@example.com'));

/** The address given to `--to`, or {@link InvalidInputError} saying why it is refused. */
export function parseTestAddress(to: string): string {
  const parsed = TestAddress.safeParse(to);
  if (parsed.success) return parsed.data;
  throw new InvalidInputError(
    [
      {
        field: '--to',
        message: `${JSON.stringify(to.slice(0, 80))} is refused: expected ${parsed.error.issues[0]?.message ?? 'one address'}`,
      },
    ],
    'send-test address',
  );
}

/**
 * Sends one rendered email to `to` through `adapter`, marked as a test (`send-test` in its
 * headers and a fresh operation id), and says where it went: the SMTP server's answer or the
 * `.eml` file written.
 *
 * @throws SendTestError when the channel refuses the message or cannot be reached.
 */
export async function sendTestEmail(input: {
  adapter: ChannelAdapter;
  messageId: string;
  to: string;
  rendered: RenderedMessage;
  unsubscribeUrl: string;
  /** The message's topic, so the test shows the list headers a real send carries. */
  topic?: Topic;
}): Promise<{ provider: string; where: string }> {
  const result = await input.adapter.send({
    opId: `send-test-${randomUUID()}`,
    customerId: 'send-test',
    journeyId: 'send-test',
    journeyVersion: 0,
    message: input.messageId,
    variant: 'control',
    channel: 'email',
    address: { email: input.to },
    rendered: input.rendered,
    unsubscribeUrl: input.unsubscribeUrl,
    ...(input.topic === undefined ? {} : { topic: input.topic }),
  });
  if (result.status !== 'sent')
    throw new SendTestError(result.reason, result.status === 'retry', input.adapter.provider);
  return { provider: input.adapter.provider, where: result.providerId };
}
