// The HTTP API of a process: its own fail-fast Redis connection and engine (no workers), the
// Fastify app, listening on HOST:PORT.
import type { Logger as PinoLogger } from 'pino';
import {
  API_REDIS_OPTIONS,
  ConfigError,
  connectRedis,
  createEngine,
  createHttpApp,
  logConnectionErrors,
  publicPathPrefix,
  describeRedisTarget,
  redisReady,
  REDIS_ANSWER_WITHIN_MS,
  type AnyWebhookSource,
  type EnvConfig,
  type Journey,
  type MessageCatalog,
  type RedisTarget,
} from '../engine/index.js';
import type { ProcessSecrets } from './process-secrets.js';

export interface ApiServer {
  url: string;
  /** The port listened on: PORT, or the one PORT=0 picked. */
  port: number;
  /** Resolves once the drain jobs of every event accepted so far are added (see createInboxIntake). */
  settle(): Promise<void>;
  /**
   * Stops taking requests and lets those in flight be answered, for `deadlineMs` at most: a
   * connection still holding an unanswered request then (a client that stalled halfway through
   * its body, say) is closed, so a shutdown is never held up by a client.
   */
  close(deadlineMs?: number): Promise<void>;
}

export async function startApiServer(input: {
  config: Readonly<EnvConfig>;
  redisTarget: RedisTarget;
  logger: PinoLogger;
  journeys: readonly Journey[];
  messages: MessageCatalog;
  webhookSources: readonly AnyWebhookSource[];
  secrets: ProcessSecrets;
  /** Whether a link leads to a brand host of its message: see HttpAppOptions.brandLink. */
  brandLink?: (messageId: string, url: string) => boolean;
}): Promise<ApiServer> {
  const { config, logger } = input;
  // Fail-fast (a Redis that is away makes requests fail at once, and the app answers 503) and
  // auto-pipelined: see API_REDIS_OPTIONS.
  // A Redis that stops answering (a network partition) fails each command after
  // API_REDIS_TIMEOUT_MS, answered 503 like a Redis that is away.
  const redis = connectRedis(input.redisTarget, {
    ...API_REDIS_OPTIONS,
    commandTimeout: config.API_REDIS_TIMEOUT_MS,
  });
  logConnectionErrors(redis, logger, 'api redis connection');
  await redisReady(redis, {
    where: describeRedisTarget(input.redisTarget),
    timeoutMs: REDIS_ANSWER_WITHIN_MS,
  });
  // With PORT=0 the port is known once listening: the default PUBLIC_URL is set then, before any
  // request can make a link.
  const confirmLink = {
    baseUrl: config.PUBLIC_URL ?? `http://localhost:${config.PORT}`,
    secret: input.secrets.unsubscribeSecret,
    previousSecrets: input.secrets.previousUnsubscribeSecrets,
  };
  const engine = createEngine({
    redis,
    prefix: config.REDIS_PREFIX,
    journeys: input.journeys,
    messages: input.messages,
    // Events go to their customer's queue shard, and the dashboard and metrics show every shard.
    queueShards: config.QUEUE_SHARDS,
    // How often the dashboard and metrics look for shards another process recorded later.
    sweepIntervalMs: config.SWEEP_INTERVAL_MS,
    // The API records consent answers and signs double opt-in links with the unsubscribe secret.
    consent: { doubleOptIn: config.DOUBLE_OPT_IN, confirmLink },
    // Its ingest routes hold each call to it, as engine.track does.
    maxCallBytes: config.MAX_CALL_BYTES,
    logger,
  });
  const app = await createHttpApp({
    engine,
    redis,
    apiKeys: input.secrets.apiKeys,
    dashboard: {
      user: config.DASHBOARD_USER,
      password: input.secrets.dashboardPassword,
      write: config.DASHBOARD_WRITE,
      // Behind a proxy that serves the API under a path, the dashboard's links keep to it.
      pathPrefix: config.PUBLIC_URL === undefined ? '' : publicPathPrefix(config.PUBLIC_URL),
    },
    webhookSources: input.webhookSources,
    // Twilio signs the texts it posts over the URL it was given, PUBLIC_URL's.
    publicUrl: config.PUBLIC_URL,
    twilioAuthToken: config.TWILIO_AUTH_TOKEN,
    // Replies count only when they were sent to the number our texts come from.
    ...(config.SMS_FROM === undefined ? {} : { twilioSenders: { from: config.SMS_FROM } }),
    webhookSecrets: input.secrets.webhookSecrets,
    unsubscribeSecret: input.secrets.unsubscribeSecret,
    previousUnsubscribeSecrets: input.secrets.previousUnsubscribeSecrets,
    // An app's own calls to its customer's inbox: tokens its backend signs, from the origins allowed.
    inAppTokenSecrets:
      config.IN_APP_TOKEN_SECRET === undefined
        ? []
        : [config.IN_APP_TOKEN_SECRET, ...config.IN_APP_TOKEN_PREVIOUS_SECRETS],
    inAppCorsOrigins: config.IN_APP_CORS_ORIGINS,
    ...(input.brandLink === undefined ? {} : { brandLink: input.brandLink }),
    rateLimit: { max: config.API_RATE_LIMIT.max, windowMs: config.API_RATE_LIMIT.duration },
    bodyLimit: config.BODY_LIMIT,
    requestTimeoutMs: config.REQUEST_TIMEOUT_MS,
    logger,
  });
  await app.listen({ port: config.PORT, host: config.HOST }).catch(async (error: unknown) => {
    await app.close();
    await engine.close();
    redis.disconnect();
    throw listenProblem(error, config) ?? error;
  });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : config.PORT;
  confirmLink.baseUrl = config.PUBLIC_URL ?? `http://localhost:${port}`;
  const listening = config.HOST === '0.0.0.0' || config.HOST === '::' ? 'localhost' : config.HOST;
  // An IPv6 address is bracketed in a URL (http://[::1]:3000), or its colons read as the port's.
  const host = listening.includes(':') ? `[${listening}]` : listening;
  return {
    url: `http://${host}:${port}`,
    port,
    settle: () => engine.settleIngest(),
    async close(deadlineMs = Number.POSITIVE_INFINITY) {
      const deadline = Date.now() + deadlineMs;
      const closing = app.close();
      let timer: NodeJS.Timeout | undefined;
      if (Number.isFinite(deadlineMs)) timer = setTimeout(() => app.server.closeAllConnections(), deadlineMs);
      await closing.finally(() => clearTimeout(timer));
      // The drain jobs of the events answered get what is left of the deadline.
      await engine.close(Number.isFinite(deadlineMs) ? Math.max(0, deadline - Date.now()) : undefined);
      await redis.quit().catch(() => redis.disconnect());
    },
  };
}

/**
 * A port taken (another Chorus, say a second `npm start`) or a HOST this machine does not have,
 * as the variable to change, not as a bare EADDRINUSE stack.
 */
function listenProblem(error: unknown, config: Readonly<EnvConfig>): ConfigError | undefined {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  const where = `${config.HOST}:${config.PORT}`;
  if (code === 'EADDRINUSE')
    return new ConfigError([
      {
        name: 'PORT',
        message: `${where} is already in use by another process; choose a free port (or 0 for any)`,
      },
    ]);
  if (code === 'EACCES')
    return new ConfigError([
      { name: 'PORT', message: `${where} may not be listened on by this user; choose a port above 1023` },
    ]);
  if (code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND')
    return new ConfigError([
      {
        name: 'HOST',
        message: `${config.HOST} is not an address of this machine (use 0.0.0.0 for all of them)`,
      },
    ]);
  return undefined;
}
