import type { z } from 'zod';
import type { TrackInput } from '../ingest/ingest-schema.js';
import { JourneyDefinitionError } from '../journey/define-journey.js';

const SOURCE = Symbol.for('chorus.webhook-source');

/** What a source's payload becomes: a `track` call, or nothing (a ping, an event we ignore). */
export type WebhookTrack = Omit<TrackInput, 'messageId'> | undefined;

/**
 * An inbound webhook source: where `POST /v1/webhooks/<id>` comes from, the shape of its
 * payload, and how a payload maps to a `track` event. Its secrets come from the environment
 * (`WEBHOOK_SOURCE_SECRETS`), never from code.
 */
export interface WebhookSource<Payload extends z.ZodType = z.ZodType> {
  readonly [SOURCE]: true;
  readonly id: string;
  readonly payload: Payload;
  toTrack(payload: z.output<Payload>): WebhookTrack;
}

// Sources are held in lists of mixed payload types; the mapping is only called with its own payload.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyWebhookSource = WebhookSource<any>;

/**
 * @example
 * export const shop = defineWebhookSource({
 *   id: 'shop',
 *   payload: z.object({ type: z.literal('order.paid'), customer: z.object({ id: z.string() }), total: z.number() }),
 *   toTrack: (p) => ({ userId: p.customer.id, event: 'Order Completed', properties: { revenue: p.total } }),
 * });
 */
export function defineWebhookSource<Payload extends z.ZodType>(definition: {
  id: string;
  payload: Payload;
  toTrack(payload: z.output<Payload>): WebhookTrack;
}): WebhookSource<Payload> {
  if (!/^[a-z0-9][a-z0-9-]{0,39}$/.test(definition.id))
    throw new JourneyDefinitionError(
      `Webhook source id "${definition.id}" must be lowercase letters, digits and dashes (at most 40), as it appears in the URL.`,
    );
  return { [SOURCE]: true, ...definition };
}

export function isWebhookSource(value: unknown): value is AnyWebhookSource {
  return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[SOURCE] === true;
}

/**
 * The challenge a source's route sends with a 401 (RFC 9110 §11.6.1: every 401 names how to
 * authenticate): the scheme it takes, Standard Webhooks signatures, and the source as the
 * protection space, as each source has secrets of its own. Source ids need no quoting.
 */
export function webhookChallenge(sourceId: string): string {
  return `Standard-Webhooks realm="webhooks/${sourceId}"`;
}

/**
 * The WEBHOOK_SOURCE_SECRETS entries that name a source no journey file defines, as ConfigError
 * entries: a typo or a leftover, and the source meant goes without its secret (its webhooks are
 * refused). Start-up stops on them in every process, and `chorus validate` reports them.
 *
 * @example
 * const unknown = unknownWebhookSources(config.WEBHOOK_SOURCE_SECRETS, sources.map((s) => s.id));
 * if (unknown.length > 0) throw new ConfigError(unknown);
 */
export function unknownWebhookSources(
  configured: Readonly<Record<string, unknown>> | undefined,
  knownIds: readonly string[],
): Array<{ name: string; message: string }> {
  return Object.keys(configured ?? {})
    .filter((id) => !knownIds.includes(id))
    .map((id) => ({
      name: 'WEBHOOK_SOURCE_SECRETS',
      message: `names the webhook source "${id}", which no file in JOURNEYS_DIR defines (${knownIds.length > 0 ? `known: ${knownIds.join(', ')}` : 'none is defined'})`,
    }));
}
