import { randomUUID } from 'node:crypto';
import fastifySwagger from '@fastify/swagger';
import fastifySwaggerUi from '@fastify/swagger-ui';
import Fastify, { errorCodes, type FastifyInstance, type FastifyReply } from 'fastify';
import { serializerCompiler, validatorCompiler, type ZodTypeProvider } from 'fastify-type-provider-zod';
import { systemClock } from '../clock.js';
import { allQueues } from '../runtime/queues.js';
import { readRecordedShards } from './read-recorded-shards.js';
import { apiKeyChecker } from './api-key-auth.js';
import { inflateBody } from './body-encoding.js';
import { answerClientError } from './client-error.js';
import { closeConnectionsOnClose } from './close-connections.js';
import { dashboard } from './dashboard.js';
import { DASHBOARD_PATH } from './dashboard-paths.js';
import { documentRoute } from './error-answers-doc.js';
import { installErrorHandler, urlErrorBody } from './error-handler.js';
import { DEFAULT_REQUEST_TIMEOUT_MS, type HttpAppOptions } from './http-options.js';
import { RedisAwayError } from './http-errors.js';
import { OutageLog } from './outage-log.js';
import { checkIngestCalls } from './ingest-call-size.js';
import { parseJsonBody } from './json-body.js';
import { rateLimitHook } from './rate-limit-hook.js';
import { DEFAULT_API_RATE_LIMIT, RequestRateLimiter } from './rate-limit.js';
import { createMetrics } from './metrics.js';
import { requestLogger } from './request-log.js';
import { consentConfirmRoutes } from './routes/consent-confirm-routes.js';
import { consentRoutes } from './routes/consent-routes.js';
import { customerRoutes } from './routes/customer-routes.js';
import { deliveryEventRoutes } from './routes/delivery-event-routes.js';
import { IN_APP_ROUTE_URLS, inAppRoutes } from './routes/in-app-routes.js';
import { inAppTokenAuth } from './in-app-auth.js';
import { inAppCors } from './in-app-cors.js';
import { healthRoutes } from './routes/health-routes.js';
import { ingestRoutes } from './routes/ingest-routes.js';
import { smsInboundRoutes } from './routes/sms-inbound-routes.js';
import { suppressionRoutes } from './routes/suppression-routes.js';
import { journeyRoutes } from './routes/journey-routes.js';
import { trackingRoutes } from './routes/tracking-routes.js';
import { trackingSecret } from '../tracking/tracking-token.js';
import { unsubscribeRoutes } from './routes/unsubscribe-routes.js';
import { webhookRoutes } from './routes/webhook-routes.js';

const REQUEST_ID = /^[A-Za-z0-9._-]{1,64}$/;

/**
 * The HTTP API and the dashboard as a Fastify app, not yet listening: tests drive it with
 * `inject()`, `workers/` calls `listen()`.
 *
 * - `/v1/*` ingest and management, behind an API key and a per-key rate limit; the in-app inbox
 *   routes also take one customer's in-app token, and answer CORS from IN_APP_CORS_ORIGINS;
 * - `/v1/webhooks/:source` signed by the source instead, `/v1/sms/inbound/twilio` by Twilio,
 *   `/v1/unsubscribe` and `/v1/consent/confirm` by their tokens;
 * - `/t/c/<token>` and `/t/o/<token>` tracked links and the open pixel, signed tokens, and
 *   `/t/s/<id>` SMS short links, stored ones;
 * - `/admin/queues` the Bull dashboard, behind basic auth;
 * - `/healthz`, `/readyz`, `/metrics`, and `/docs` (OpenAPI from the zod schemas).
 */
export async function createHttpApp(options: HttpAppOptions): Promise<FastifyInstance> {
  const clock = options.clock ?? systemClock;
  const { engine, redis } = options;
  // The path a reverse proxy serves the app under, if any: links the app hands out start with it.
  const pathPrefix = options.dashboard.pathPrefix ?? '';
  const requestTimeoutMs = options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
  const app = Fastify({
    // Its request lines mask the tokens of the links the engine sends (see maskLinkTokens).
    ...(options.logger ? { loggerInstance: requestLogger(options.logger) } : { logger: false }),
    bodyLimit: options.bodyLimit ?? 1024 * 1024,
    // A request must arrive whole within requestTimeoutMs (408 otherwise, see answerClientError).
    // Node looks for late ones every connectionsCheckingInterval (30 s by default, as long as the
    // timeout itself): checked ten times per timeout, one is cut at most a tenth late. Headers
    // count within the same limit, as Node requires.
    requestTimeout: requestTimeoutMs,
    http:
      requestTimeoutMs > 0
        ? {
            requestTimeout: requestTimeoutMs,
            headersTimeout: Math.min(60_000, requestTimeoutMs),
            connectionsCheckingInterval: Math.min(30_000, Math.max(50, Math.ceil(requestTimeoutMs / 10))),
          }
        : { requestTimeout: 0 },
    // A caller's X-Request-Id is kept when it is sane, so logs join up across services.
    genReqId: (request) => {
      const given = request.headers['x-request-id'];
      return typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
    },
    // Longer than any id a route accepts (Fastify's default is 100), so a long but valid userId
    // reaches its route and a too-long one is named by validation rather than refused unseen. The
    // length is counted in the URL, where a character can take nine (`%E6%BC%A2`), and an in-app
    // message id, which holds the customer id already percent-encoded, three per character again.
    routerOptions: { maxParamLength: 8192 },
    // A request Node cannot parse, and a URL that does not decode, are answered like every other refusal.
    clientErrorHandler: answerClientError,
    // Sent before any route's hooks, the onSend below among them: the request id is set here.
    frameworkErrors: (error, request, reply) => {
      void (reply as FastifyReply)
        .code(error.statusCode ?? 400)
        .header('x-request-id', request.id)
        .send(urlErrorBody(error, request.id));
    },
  }).withTypeProvider<ZodTypeProvider>();
  // Idle keep-alive connections must not hold up a shutdown; answers in flight still go out.
  closeConnectionsOnClose(app);
  // JSON bodies are checked for what Fastify's parser lets through or reports vaguely: bytes that
  // are not UTF-8, nesting deep enough to overflow the stack later, prototype keys (by name).
  // A gzipped or deflated body is inflated first, everywhere: the parsers below read it as sent.
  app.addHook('preParsing', inflateBody);
  app.removeContentTypeParser('application/json');
  const { maxCallBytes } = engine;
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (request, body, done) => {
    const raw = body as Buffer;
    // No bytes is no body: many clients send `Content-Type: application/json` on every request,
    // a DELETE included. A route that needs a body refuses its absence by its schema, naming it.
    if (raw.length === 0) return done(null, undefined);
    try {
      const value = parseJsonBody(raw);
      // Each ingest call is held to MAX_CALL_BYTES. A body no larger holds no larger call, so only
      // a larger body (a batch, mostly) has its calls measured: a single track costs one comparison.
      if (raw.length > maxCallBytes) checkIngestCalls(request, value, maxCallBytes);
      done(null, value);
    } catch (error) {
      done(error as Error, undefined);
    }
  });
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  installErrorHandler(app, redis, { outageLog: new OutageLog() });
  // Hooks that run on every request take a callback rather than returning a promise: cheaper.
  app.addHook('onSend', (request, reply, payload, done) => {
    void reply.header('x-request-id', request.id);
    done(null, payload);
  });

  // Every shard a process recorded: the dashboard and metrics show the jobs in shards beyond this
  // process's QUEUE_SHARDS too (see shardCountKey), and those of shards recorded later once found.
  await readRecordedShards(engine.shards, app.log);
  // An API that loads a journey (a canary's, taking entries into one it added) keeps its customers
  // in it as much as a worker does: see LoadedJourneys.
  engine.loadedJourneys.watch();
  const metrics = createMetrics({
    queues: () => allQueues(engine.shards.current),
    redis,
    prefix: engine.prefix,
    timerWheel: engine.timerWheel,
    drainAddsGivenUp: () => engine.drainAddsGivenUp(),
  });
  app.addHook('onResponse', (request, reply, done) => {
    const route = request.routeOptions.url ?? 'unmatched';
    metrics.observe(request.method, route, reply.statusCode, reply.elapsedTime / 1000);
    done();
  });

  await app.register(fastifySwagger, {
    openapi: {
      info: {
        title: 'Chorus',
        description:
          'Journeys in code. Ingest is Segment-compatible; `/v1/*` needs `Authorization: Bearer <API_KEY>`, ' +
          'but for the routes marked as taking none, which are signed instead: `/v1/webhooks/{source}` by the ' +
          'source, `/v1/sms/inbound/twilio` by Twilio, `/v1/unsubscribe` and `/v1/consent/confirm` by the token in their link. ' +
          "The in-app routes also take a customer's in-app token (`createInAppToken`), so an app can call them itself.",
        version: '1',
      },
      // Without servers a client, and the reference's "Try it out", call the host's root.
      ...(pathPrefix ? { servers: [{ url: pathPrefix }] } : {}),
      components: {
        securitySchemes: {
          apiKey: { type: 'http', scheme: 'bearer' },
          inAppToken: {
            type: 'http',
            scheme: 'bearer',
            description: "One customer's in-app token (createInAppToken), for the in-app routes only",
          },
        },
      },
      security: [{ apiKey: [] }],
    },
    transform: documentRoute,
  });
  // Behind a proxy under a path, the page at /docs (no slash) links its scripts and styles under it.
  // Its tab is named for the API rather than "Swagger UI", among the dashboard's tabs.
  await app.register(fastifySwaggerUi, {
    routePrefix: '/docs',
    indexPrefix: pathPrefix,
    theme: { title: 'Chorus API reference' },
  });

  await app.register(healthRoutes, { redis });
  // Outside the Redis scope and the key: a browser's preflight carries no credentials.
  const cors = inAppCors(options.inAppCorsOrigins ?? []);
  await app.register(cors.preflightRoutes([...IN_APP_ROUTE_URLS]));
  // Outside the Redis scope below: a click still redirects while Redis is away.
  // The current secret first: a link a rotation left behind is still taken, signed with an older one.
  const unsubscribeSecrets = [options.unsubscribeSecret, ...(options.previousUnsubscribeSecrets ?? [])];
  const tracking = {
    engine,
    secrets: unsubscribeSecrets.map(trackingSecret),
    clock,
    ...(options.brandLink === undefined ? {} : { brandLink: options.brandLink }),
  };
  await app.register(trackingRoutes, tracking);
  app.get(
    '/metrics',
    { schema: { tags: ['operate'], summary: 'Prometheus metrics', security: [] } },
    async (_request, reply) =>
      reply.type(metrics.registry.contentType).send(await metrics.registry.metrics()),
  );

  // Everything below needs Redis: while it is away, answer 503 at once rather than queueing.
  await app.register(async (scope) => {
    scope.addHook('onRequest', (_request, _reply, done) => {
      if (redis.status === 'ready') return done();
      done(
        new RedisAwayError('Redis is not reachable right now; nothing was stored. To fix: retry shortly.'),
      );
    });

    await scope.register(async (v1) => {
      // JSON only: a text body would otherwise reach validation and be reported as a wrong type.
      v1.removeContentTypeParser('text/plain');
      // No bytes is no body under any Content-Type, as under application/json: Java's
      // HttpURLConnection and `curl -d ''` mark an empty POST or DELETE as a form.
      v1.addContentTypeParser('*', { parseAs: 'buffer' }, (_request, body, done) => {
        if ((body as Buffer).length === 0) return done(null, undefined);
        done(new errorCodes.FST_ERR_CTP_INVALID_MEDIA_TYPE(), undefined);
      });
      const keys = apiKeyChecker(options.apiKeys);
      const inAppTokens = inAppTokenAuth(options.inAppTokenSecrets ?? [], clock);
      const limiter = new RequestRateLimiter(
        redis,
        `${engine.prefix}:rate`,
        options.rateLimit ?? DEFAULT_API_RATE_LIMIT,
        clock,
      );
      v1.addHook(
        'onRequest',
        rateLimitHook(
          limiter,
          (request) => keys.keyOf(request) ?? inAppTokens.labelOf(request) ?? `ip-${request.ip}`,
        ),
      );
      // The API key, or on the in-app routes alone an in-app token for the URL's customer.
      v1.addHook('onRequest', async (request) => {
        if (keys.keyOf(request) !== undefined || inAppTokens.accepts(request)) return;
        await keys.requireKey(request);
      });
      await v1.register(ingestRoutes, { engine, clock });
      await v1.register(journeyRoutes, { engine, clock });
      await v1.register(customerRoutes, { engine, clock });
      await v1.register(inAppRoutes, { engine, clock, cors });
      await v1.register(consentRoutes, { engine, clock });
      await v1.register(deliveryEventRoutes, { engine, clock });
      await v1.register(suppressionRoutes, { engine });
    });

    await scope.register(webhookRoutes, {
      engine,
      sources: options.webhookSources ?? [],
      secrets: options.webhookSecrets ?? {},
      clock,
    });
    await scope.register(smsInboundRoutes, {
      engine,
      twilioAuthToken: options.twilioAuthToken,
      twilioSenders: options.twilioSenders ?? {},
      publicUrl: options.publicUrl,
      clock,
    });
    await scope.register(unsubscribeRoutes, { engine, secrets: unsubscribeSecrets, clock });
    await scope.register(consentConfirmRoutes, { engine, secrets: unsubscribeSecrets, clock });
  });
  // Outside that scope: it asks for its credentials before saying whether Redis is there.
  await app.register(dashboard, { engine, redis, ...options.dashboard });

  app.get('/', { schema: { hide: true } }, async (_request, reply) =>
    reply.redirect(`${pathPrefix}${DASHBOARD_PATH}`),
  );
  return app;
}
