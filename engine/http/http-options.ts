import type { FastifyBaseLogger } from 'fastify';
import type { RedisConnection } from '../redis/connection.js';
import type { Clock } from '../clock.js';
import type { Engine } from '../engine.js';
import type { AnyWebhookSource } from './webhook-source.js';
import type { RateLimit } from './rate-limit.js';
import type { TwilioSenders } from '../channels/twilio-senders.js';

/**
 * How long a client may take to send a whole request (REQUEST_TIMEOUT_MS): a 1 MiB batch needs
 * only about 280 kbit/s to arrive within it, and a client that trickles its body (a slowloris)
 * holds a connection no longer.
 */
export const DEFAULT_REQUEST_TIMEOUT_MS = 30_000;

/** Everything the HTTP app needs; `workers/` builds it from the environment, tests by hand. */
export interface HttpAppOptions {
  engine: Engine;
  /**
   * The connection the app's requests use. Give it `enableOfflineQueue: false` so that while
   * Redis is away requests fail fast with 503 instead of waiting for a reconnect.
   */
  redis: RedisConnection;
  /** Bearer keys for `/v1/*`; several during a rotation. */
  apiKeys: readonly string[];
  /**
   * HTTP basic auth for the dashboard (`/admin/*`), whether it may change jobs, and the path a
   * reverse proxy serves the app under (`publicPathPrefix(PUBLIC_URL)`), for the links of the
   * dashboard and of the API reference at `/docs`.
   */
  dashboard: { user: string; password: string; write: boolean; pathPrefix?: string };
  /** Signed inbound webhooks: each source and the secrets it may be signed with. */
  webhookSources?: readonly AnyWebhookSource[];
  webhookSecrets?: Readonly<Record<string, readonly string[]>>;
  /**
   * PUBLIC_URL: where the app is reached from outside. Twilio's webhooks are signed over it
   * (with the request's path after it); unset, over the URL the request came to.
   */
  publicUrl?: string;
  /** TWILIO_AUTH_TOKEN: verifies texts Twilio posts to `/v1/sms/inbound/twilio`; unset, it answers 404. */
  twilioAuthToken?: string;
  /**
   * Our own SMS sender (SMS_FROM, or a Messaging Service): only texts addressed to it count. A
   * STOP to another number of the account whose webhook points here is not a reply to us.
   */
  twilioSenders?: TwilioSenders;
  /** Verifies one-click unsubscribe tokens. */
  unsubscribeSecret: string;
  /**
   * Secrets the unsubscribe secret had before a rotation: unsubscribe links, tracked links and
   * open pixels signed with one are still taken (new ones are signed with `unsubscribeSecret`).
   */
  previousUnsubscribeSecrets?: readonly string[];
  /**
   * Whether a link of a message leads to one of its brand hosts (`renderer.isBrandLink`): a
   * tracked link signed before hosts were checked at send time redirects only then, and else
   * shows a page naming where it leads. Unset: every such link shows that page.
   */
  brandLink?: (messageId: string, url: string) => boolean;
  /**
   * IN_APP_TOKEN_SECRET, then the secrets it had before (IN_APP_TOKEN_PREVIOUS_SECRETS): the in-app
   * routes take a customer's in-app token signed with one (see createInAppToken). Empty or unset:
   * they need the API key.
   */
  inAppTokenSecrets?: readonly string[];
  /** IN_APP_CORS_ORIGINS: the origins (`https://app.example.com`) whose pages may call the in-app routes. */
  inAppCorsOrigins?: readonly string[];
  /** Requests per key (or per address, without a valid key) per window on `/v1/*`. */
  rateLimit?: RateLimit;
  /** Largest request body accepted, in bytes; larger ones get 413. Default 1 MiB. */
  bodyLimit?: number;
  /**
   * How long a client may take to send a whole request, in ms; a slower one gets 408 and its
   * connection is closed. 0: no limit. Default DEFAULT_REQUEST_TIMEOUT_MS.
   */
  requestTimeoutMs?: number;
  /** A pino logger (Fastify logs each request with its id through it); default silent. */
  logger?: FastifyBaseLogger;
  /** "Now" for every route that reads the time (give it the engine's clock); default the system clock. */
  clock?: Clock;
}
