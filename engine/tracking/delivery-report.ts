import type { RedisConnection } from '../redis/connection.js';
import { z } from 'zod';
import { parseInput } from '../ingest/ingest-schema.js';
import { Channel } from '../journey/journey-schema.js';
import { matchesOpId, MAX_OP_ID_LENGTH } from '../runtime/ids.js';
import type { Logger } from '../logger.js';
import { customerKeys } from '../store/customer-keys.js';
import { readMessageList } from '../store/message-list.js';
import { recordEngagement } from './engagement.js';
import type { TrackedSend } from './tracking-token.js';

/**
 * What a provider reported about a send after accepting it, by the send's operation id (email
 * carries it as `X-Chorus-Op` and in its Message-ID `<opId.<time>@domain>`; an id longer than 200
 * characters as `h-` and its digest there, which names the send as well, see headerOpId).
 */
export const DeliveryReport = z.object({
  customerId: z.string().min(1).max(256),
  opId: z.string().min(1).max(MAX_OP_ID_LENGTH),
  status: z.enum(['delivered', 'bounced', 'complained']),
  /**
   * When the provider saw it, epoch ms. No later than 9999, the last year an ISO date (and so the
   * day the per-day counters file it under) can write: a time in microseconds is refused here,
   * before anything is recorded, not recorded and then impossible to count.
   */
  at: z
    .number()
    .int()
    .nonnegative()
    .max(Date.parse('9999-12-31T23:59:59.999Z'), 'epoch milliseconds, no later than the end of 9999'),
  /** The provider's words: a bounce's diagnostic, say. */
  reason: z.string().max(1000).optional(),
});
export type DeliveryReport = z.infer<typeof DeliveryReport>;

/**
 * `first`: recorded and counted; `repeat`: this status was already recorded for the send;
 * `unknown-send`: the customer's message list has no sent (or `unknown`) message with that operation id (a
 * wrong id, or one so old the capped list no longer holds it), so nothing was recorded.
 */
export type DeliveryReportResult = { recorded: 'first' | 'repeat' } | { recorded: 'unknown-send' };

const MessageEntry = z.looseObject({
  opId: z.string(),
  journeyId: z.string(),
  message: z.string(),
  channel: Channel,
  variant: z.string().default('control'),
  status: z.string(),
  at: z.number().optional(),
  /** What could not be seen of the send (`opens`, `clicks`); anything else reads as none. */
  untracked: z.array(z.string()).optional().catch(undefined),
});

/**
 * Whether a message-list entry is the outcome of a send handed to its provider: `sent`, or
 * `unknown` (a run died around the provider call; a report from the provider settles that it
 * went). Its opens, clicks and reports belong to it, not to the notes sharing its operation id.
 */
export function handedOver(status: unknown): boolean {
  return status === 'sent' || status === 'unknown';
}

/**
 * Records a provider's report on a send (delivered, bounced, complained) on the customer's
 * engagement and in the per-day counters, once per send and status: a provider repeating a
 * webhook changes nothing. The journey, message, channel and variant are read from the
 * customer's message list; an entry of it that is not a JSON object is skipped, and logged as a
 * warning with `options.logger`. For an inbound provider webhook to call; Chorus itself reports
 * only `sent`, when the provider accepts.
 *
 * @example
 * await recordDeliveryReport(redis, 'chorus', { customerId: 'u1', opId, status: 'bounced', at: Date.now(), reason: '550 5.1.1 no such user' });
 */
export async function recordDeliveryReport(
  redis: RedisConnection,
  prefix: string,
  report: DeliveryReport,
  options: { logger?: Logger } = {},
): Promise<DeliveryReportResult> {
  const parsed = parseInput(DeliveryReport, report, 'delivery report');
  const list = readMessageList(await redis.lrange(customerKeys(prefix, parsed.customerId).messages, 0, -1));
  if (list.malformed > 0)
    options.logger?.warn(
      { customerId: parsed.customerId, malformed: list.malformed },
      "entries of the customer's message list that are not JSON objects were skipped",
    );
  const send = list.entries
    .map((entry) => MessageEntry.safeParse(entry))
    .flatMap((entry) => (entry.success ? [entry.data] : []))
    .find((entry) => matchesOpId(entry.opId, parsed.opId) && handedOver(entry.status));
  if (!send) return { recorded: 'unknown-send' };
  const tracked: TrackedSend = {
    opId: send.opId,
    customerId: parsed.customerId,
    journeyId: send.journeyId,
    message: send.message,
    channel: send.channel,
    variant: send.variant,
  };
  // The customer's state is checked with the write: an erasure ending since the list was read
  // must not be followed by engagement written back under the erased customer's id. The send's
  // time, which files the report under its day, is the entry's just read: not read again there.
  const { first, known } = await recordEngagement(redis, prefix, {
    send: tracked,
    kind: parsed.status,
    at: parsed.at,
    ...(parsed.reason === undefined ? {} : { reason: parsed.reason }),
    knownOnly: true,
    sentAt: send.at ?? 0,
    sentStatus: send.status,
    ...(send.untracked === undefined ? {} : { sentUntracked: send.untracked }),
  });
  if (!known) return { recorded: 'unknown-send' };
  return { recorded: first ? 'first' : 'repeat' };
}
