import { createHash } from 'node:crypto';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { ChannelConfigError, WebhookVerificationError } from '../../channels/errors.js';
import { verifyWebhook, webhookKey } from '../../channels/standard-webhooks.js';
import type { Clock } from '../../clock.js';
import type { Engine } from '../../engine.js';
import { checkCallSize } from '../../ingest/call-size.js';
import { parseInput, TrackInput } from '../../ingest/ingest-schema.js';
import { HttpError, NotFoundError, ServiceUnavailableError } from '../http-errors.js';
import { parseJsonBody } from '../json-body.js';
import { webhookChallenge, type AnyWebhookSource } from '../webhook-source.js';
import { Accepted } from './ingest-routes.js';

export interface WebhookRouteOptions {
  engine: Engine;
  sources: readonly AnyWebhookSource[];
  secrets: Readonly<Record<string, readonly string[]>>;
  clock: Clock;
}

/**
 * Signed inbound webhooks (Standard Webhooks): the raw body is verified against the source's
 * secrets before it is parsed, then mapped to a `track` event by the source's code. The
 * `webhook-id` is the event's messageId, so a redelivered webhook is accepted and ignored.
 */
export const webhookRoutes: FastifyPluginAsyncZod<WebhookRouteOptions> = async (app, options) => {
  const { engine } = options;
  const sources = new Map(options.sources.map((source) => [source.id, source]));
  // A secret that is not base64 would fail every request to its source with a 500, even those
  // signed with another of its secrets: the app is not built with one.
  for (const [id, secrets] of Object.entries(options.secrets))
    secrets.forEach((secret, index) => {
      try {
        webhookKey(secret);
      } catch (error) {
        throw new ChannelConfigError(
          `webhookSecrets.${id}`,
          `Secret ${index + 1} of webhook source "${id}" is not \`whsec_\` followed by base64, so no ` +
            'webhook from it could be verified. To fix: use the secret exactly as its sender issued it.',
          { cause: error },
        );
      }
    });
  // The signature covers the bytes as sent, so this scope keeps the body raw and parses it itself.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_request, body, done) => done(null, body));

  app.post(
    '/v1/webhooks/:source',
    {
      schema: {
        tags: ['ingest'],
        summary: 'A signed webhook from a declared source, mapped to a track event',
        params: z.object({ source: z.string() }),
        // Signed by the source (see the description), not by the API key.
        security: [],
        description:
          'Signed per Standard Webhooks: `webhook-id`, `webhook-timestamp` and `webhook-signature` headers ' +
          '(or `svix-id`, `svix-timestamp` and `svix-signature`, as Svix-powered senders name them) ' +
          'over the raw body, within 5 minutes. A redelivery with the same `webhook-id` is accepted and ignored.',
        response: { 202: Accepted.extend({ ignored: z.boolean() }) },
      },
    },
    async (request, reply) => {
      const source = sources.get(request.params.source);
      if (!source)
        throw new NotFoundError(
          `No webhook source "${request.params.source}". To fix: declare it with defineWebhookSource in the journeys folder.`,
        );
      const secrets = options.secrets[source.id] ?? [];
      if (secrets.length === 0)
        throw new ServiceUnavailableError(
          `Webhook source "${source.id}" has no secret configured. To fix: add it to WEBHOOK_SOURCE_SECRETS.`,
        );
      const raw = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
      const { id } = verified(source.id, () =>
        verifyWebhook(secrets, request.headers, raw, { now: options.clock.now() }),
      );
      const json = parseJsonBody(raw);
      const payload = parseInput(source.payload, json, `webhook from ${source.id}`, 'body');
      const track = source.toTrack(payload);
      // The id sent by the source may be long or odd; its digest is a stable, bounded messageId.
      const messageId = `wh-${source.id}-${createHash('sha256').update(id).digest('base64url')}`;
      if (!track) return reply.code(202).send({ eventId: messageId, duplicate: false, ignored: true });
      // The sender sent none of these fields: a refusal names the source whose mapping made them.
      const what = `track call that webhook source "${source.id}" made of this payload (its toTrack)`;
      const call = parseInput(TrackInput, { ...track, messageId }, what);
      // The payload itself may be larger (a whole order): what is stored is the call made of it.
      checkCallSize(call, engine.maxCallBytes, what);
      const result = await engine.acceptTrack(call, { rememberIdSeconds: WEBHOOK_ID_MEMORY_SECONDS });
      return reply.code(202).send({ eventId: result.eventId, duplicate: !result.accepted, ignored: false });
    },
  );
};

/**
 * How long a webhook's id is remembered, so that a redelivery is accepted and ignored: a week.
 * Senders retry a webhook whose answer they did not get for longer than the day a Segment call's
 * messageId is kept (Svix about 28 hours, Shopify 48, Stripe three days), and a second
 * `Order Completed` would convert and thank again.
 */
export const WEBHOOK_ID_MEMORY_SECONDS = 7 * 86_400;

/** `verify`'s answer; its refusal as a 401 with the source's challenge (see webhookChallenge). */
function verified<T>(sourceId: string, verify: () => T): T {
  try {
    return verify();
  } catch (error) {
    if (!(error instanceof WebhookVerificationError)) throw error;
    throw new HttpError(401, error.code, error.message, { 'www-authenticate': webhookChallenge(sourceId) });
  }
}
