import type { FastifyBaseLogger, FastifyInstance } from 'fastify';
import { Redis } from 'ioredis';
import {
  API_REDIS_OPTIONS,
  createEngine,
  createHttpApp,
  FakeClock,
  type AnyWebhookSource,
  type Engine,
  type Journey,
  type RedisConnection,
} from '../../engine/index.js';
import { testDelivery } from './delivery.js';
import { testConnection, testRedis } from './redis.js';

export const API_KEY = 'test-key-0123456789abcdef';
export const DASHBOARD = { user: 'ops', password: 'dashboard-secret' };
export const UNSUBSCRIBE_SECRET = 'test-secret-of-sixteen';
export const IN_APP_TOKEN_SECRET = 'test-in-app-token-secret';

export interface HttpHarness {
  app: FastifyInstance;
  engine: Engine;
  redis: RedisConnection;
  /** The app's own fail-fast connection, which its routes and pages read through. */
  apiRedis: RedisConnection;
  prefix: string;
  clock: FakeClock;
  auth: { authorization: string };
  /** Resolves once the drain jobs of the events the app has answered are added (they follow the answer). */
  settleIngest(): Promise<void>;
  close(): Promise<void>;
}

/**
 * The HTTP app over a real engine and Redis, as `workers/` wires it: the app's requests use a
 * fail-fast connection, and workers run (unless `workers: false`) with real delivery to a
 * temporary outbox. The app, its engine and the workers share one fake clock, `clock`.
 */
export async function httpHarness(options: {
  journeys: readonly Journey[];
  workers?: boolean;
  webhookSources?: readonly AnyWebhookSource[];
  webhookSecrets?: Record<string, string[]>;
  rateLimit?: { max: number; windowMs: number };
  bodyLimit?: number;
  /** MAX_CALL_BYTES, for both engines (the app's ingest routes read it from its engine). */
  maxCallBytes?: number;
  dashboardWrite?: boolean;
  /** The path a proxy serves the app under (see DashboardOptions.pathPrefix). */
  dashboardPathPrefix?: string;
  /** Another Redis for the app's own connection (to stop it, or misconfigure it). */
  apiRedisUrl?: string;
  /** Secrets the unsubscribe secret had before (UNSUBSCRIBE_PREVIOUS_SECRETS). */
  previousUnsubscribeSecrets?: string[];
  /** Email marketing needs a confirmed grant (DOUBLE_OPT_IN). */
  doubleOptIn?: boolean;
  /** The app's request log; default silent. */
  logger?: FastifyBaseLogger;
  /** TWILIO_AUTH_TOKEN, for texts Twilio posts; and PUBLIC_URL, the URL it signs them over. */
  twilioAuthToken?: string;
  /** SMS_FROM (or a Messaging Service): the sender texts must be addressed to, to count. */
  twilioSenders?: { from?: string; messagingServiceSid?: string };
  publicUrl?: string;
  /** Whether a link leads to a brand host of its message (HttpAppOptions.brandLink). */
  brandLink?: (messageId: string, url: string) => boolean;
  /** IN_APP_TOKEN_SECRET then its previous secrets; default [IN_APP_TOKEN_SECRET]. */
  inAppTokenSecrets?: string[];
  /** IN_APP_CORS_ORIGINS; default none. */
  inAppCorsOrigins?: string[];
}): Promise<HttpHarness> {
  const ctx = testRedis();
  const clock = new FakeClock(Date.parse('2026-11-23T10:00:00Z'));
  const outbox = testDelivery(ctx.redis, ctx.prefix, options.journeys);
  const engine = createEngine({
    redis: ctx.redis,
    prefix: ctx.prefix,
    journeys: options.journeys,
    messages: outbox.messages,
    delivery: outbox.delivery,
    // The API's clock: what the workers record, the API's reports read back on the same days.
    clock,
    consent: { doubleOptIn: options.doubleOptIn ?? false },
    ...(options.maxCallBytes === undefined ? {} : { maxCallBytes: options.maxCallBytes }),
  });
  if (options.workers !== false) engine.startWorkers();
  const apiOptions = { ...API_REDIS_OPTIONS };
  const apiRedis = options.apiRedisUrl
    ? new Redis(options.apiRedisUrl, apiOptions)
    : testConnection(apiOptions);
  await new Promise<void>((resolve) => apiRedis.once('ready', () => resolve()));
  const apiEngine = createEngine({
    redis: apiRedis,
    prefix: ctx.prefix,
    ...(options.maxCallBytes === undefined ? {} : { maxCallBytes: options.maxCallBytes }),
    journeys: options.journeys,
    messages: outbox.messages,
    clock,
    consent: {
      doubleOptIn: options.doubleOptIn ?? false,
      confirmLink: {
        baseUrl: 'https://chorus.test',
        secret: UNSUBSCRIBE_SECRET,
        previousSecrets: options.previousUnsubscribeSecrets ?? [],
      },
    },
  });
  const app = await createHttpApp({
    engine: apiEngine,
    redis: apiRedis,
    apiKeys: [API_KEY],
    dashboard: {
      ...DASHBOARD,
      write: options.dashboardWrite ?? false,
      ...(options.dashboardPathPrefix === undefined ? {} : { pathPrefix: options.dashboardPathPrefix }),
    },
    unsubscribeSecret: UNSUBSCRIBE_SECRET,
    ...(options.previousUnsubscribeSecrets
      ? { previousUnsubscribeSecrets: options.previousUnsubscribeSecrets }
      : {}),
    webhookSources: options.webhookSources ?? [],
    webhookSecrets: options.webhookSecrets ?? {},
    ...(options.rateLimit ? { rateLimit: options.rateLimit } : {}),
    ...(options.bodyLimit ? { bodyLimit: options.bodyLimit } : {}),
    ...(options.logger ? { logger: options.logger } : {}),
    ...(options.brandLink ? { brandLink: options.brandLink } : {}),
    inAppTokenSecrets: options.inAppTokenSecrets ?? [IN_APP_TOKEN_SECRET],
    inAppCorsOrigins: options.inAppCorsOrigins ?? [],
    twilioAuthToken: options.twilioAuthToken,
    ...(options.twilioSenders ? { twilioSenders: options.twilioSenders } : {}),
    publicUrl: options.publicUrl,
    clock,
  });
  await app.ready();
  return {
    app,
    engine,
    redis: ctx.redis,
    apiRedis,
    prefix: ctx.prefix,
    clock,
    auth: { authorization: `Bearer ${API_KEY}` },
    settleIngest: () => apiEngine.settleIngest(),
    async close() {
      await app.close();
      await apiEngine.close();
      await engine.close();
      apiRedis.disconnect();
      outbox.cleanup();
      await ctx.cleanup();
    },
  };
}
