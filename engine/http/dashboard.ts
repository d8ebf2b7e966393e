import { createHash, timingSafeEqual } from 'node:crypto';
import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { FastifyAdapter } from '@bull-board/fastify';
import fastifyBasicAuth from '@fastify/basic-auth';
import type { Queue } from 'bullmq';
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import type { Engine } from '../engine.js';
import type { RedisConnection } from '../redis/connection.js';
import { allQueues, shardQueues } from '../runtime/queues.js';
import type { ErrorBody } from './http-errors.js';
import { encodedJobIds } from './dashboard-job-ids.js';
import { DASHBOARD_PATH, JOURNEY_PAGES_PATH } from './dashboard-paths.js';
import { journeyPages } from './journey-page.js';
import { refusalPage, wantsHtml } from './routes/html-page.js';

export interface DashboardOptions {
  user: string;
  password: string;
  /**
   * Retry, promote and clean (remove) jobs from the dashboard; otherwise it only shows them. Its
   * other writes (obliterate, empty, pause, add or edit a job, schedulers) are refused either way.
   */
  write: boolean;
  /**
   * The engine whose queues it shows, in every shard found (see RecordedShards), and whose
   * journeys get pages at /admin/journeys, under the same auth.
   */
  engine: Engine;
  /** The API's connection: while it is not ready, the dashboard answers 503 past its auth. */
  redis: RedisConnection;
  /**
   * The path a reverse proxy serves the app under (`/chorus` for PUBLIC_URL
   * `https://example.com/chorus`; empty when at the root), taken off by the proxy before the
   * request reaches the app: the pages' own links and bull-board's `<base href>` start with it, so
   * the browser stays under the proxy's path.
   */
  pathPrefix?: string;
}

const same = (a: string, b: string) =>
  timingSafeEqual(createHash('sha256').update(a).digest(), createHash('sha256').update(b).digest());

/**
 * The writes the dashboard takes with `write`, as bull-board's routes: retry, promote and clean
 * (remove) jobs, one or a whole status at once. bull-board's options allow all of its writes or
 * none, and the others (add or edit a job, empty, obliterate or pause a queue, change schedulers,
 * rate limits or concurrency) forge or lose work the engine counts on: they are refused here.
 */
const ALLOWED_WRITES: ReadonlySet<string> = new Set(
  [
    'retry/:queueStatus',
    'promote',
    'clean/:queueStatus',
    ':jobId/retry',
    ':jobId/promote',
    ':jobId/clean',
  ].map((action) => `PUT ${DASHBOARD_PATH}/api/queues/:queueName/${action}`),
);

/** bull-board's page's stylesheet link to Google Fonts (see the Content-Security-Policy below). */
const GOOGLE_FONTS_LINK = /<link\b[^>]*\bhref="https:\/\/fonts\.googleapis\.com\/[^"]*"[^>]*>\s*/g;

const PAGE_TITLES: Readonly<Record<number, string>> = {
  401: 'Sign in to the Chorus dashboard',
  403: 'The dashboard does not do that',
  503: 'Please try again in a moment',
};

/**
 * Sends a refusal of the dashboard: JSON in the API's shape, or, to a browser (a person who
 * cancelled the sign-in, or opened a page while Redis is away), the same message as a page,
 * where it showed the JSON as text.
 */
function refuse(request: FastifyRequest, reply: FastifyReply, status: number, body: ErrorBody): void {
  if (!wantsHtml(request.headers)) {
    void reply.code(status).send(body);
    return;
  }
  void reply
    .code(status)
    .type('text/html; charset=utf-8')
    .send(refusalPage(PAGE_TITLES[status] ?? 'The dashboard cannot answer', body.error));
}

/** bull-board over every engine queue, behind HTTP basic auth; read-only unless `write`. */
export const dashboard: FastifyPluginAsync<DashboardOptions> = async (app, options) => {
  await app.register(fastifyBasicAuth, {
    authenticate: { realm: 'Chorus dashboard' },
    validate: async (user, password) => {
      // Both compared, always, so timing tells nothing about which one was wrong.
      const ok = [same(user, options.user), same(password, options.password)].every(Boolean);
      if (!ok) throw new Error('wrong user name or password');
    },
  });
  // A refusal is answered here rather than thrown: bull-board's routes have an error handler of
  // their own, which would word it as an internal error in bull-board's shape.
  app.addHook('onRequest', (request, reply, next) => {
    app.basicAuth(request, reply, (error?: Error) => {
      if (error === undefined) return next();
      const body: ErrorBody = {
        error: {
          code: 'CHORUS_UNAUTHORIZED',
          message:
            'Wrong or missing dashboard credentials. To fix: use DASHBOARD_USER and DASHBOARD_PASSWORD.',
          requestId: request.id,
        },
      };
      refuse(request, reply, 401, body);
    });
  });
  // Past the auth, as the API's routes do while Redis is away: answer 503 at once rather than
  // queueing, here rather than thrown, for the same reason as the refusal above.
  app.addHook('onRequest', (request, reply, next) => {
    if (options.redis.status === 'ready') return next();
    const body: ErrorBody = {
      error: {
        code: 'CHORUS_UNAVAILABLE',
        message: 'Redis is not reachable right now; the dashboard cannot read it. To fix: retry shortly.',
        requestId: request.id,
      },
    };
    refuse(request, reply.header('retry-after', '1'), 503, body);
  });

  // Past the auth too: a refused write says so to whoever may see the board, not to anyone.
  app.addHook('onRequest', (request, reply, next) => {
    const route = request.routeOptions.url;
    if (request.method === 'GET' || request.method === 'HEAD' || route === undefined) return next();
    if (ALLOWED_WRITES.has(`${request.method} ${route}`)) return next();
    const body: ErrorBody = {
      error: {
        code: 'CHORUS_DASHBOARD_ACTION_REFUSED',
        message:
          `The dashboard does not ${request.method} ${route.slice(DASHBOARD_PATH.length)}: with DASHBOARD_WRITE it ` +
          'retries, promotes and cleans jobs only, so that no work the engine counts on is forged or lost. ' +
          "To fix: use one of those, or BullMQ's own API on purpose.",
        requestId: request.id,
      },
    };
    refuse(request, reply, 403, body);
  });

  // bull-board's API reads its body as a JSON object and answers anything else (a JSON string, a
  // text/plain body) with a 500 of its own, even when read-only: refused here, saying what it takes.
  app.addHook('preValidation', async (request, reply) => {
    const body: unknown = request.body;
    if (
      body === undefined ||
      (typeof body === 'object' && body !== null && !Array.isArray(body) && !Buffer.isBuffer(body))
    )
      return;
    const answer: ErrorBody = {
      error: {
        code: 'CHORUS_INVALID_INPUT',
        message:
          'Invalid dashboard request: body: must be a JSON object. To fix: send a JSON object, or no body.',
        issues: [{ field: 'body', message: 'must be a JSON object' }],
        requestId: request.id,
      },
    };
    return reply.code(400).send(answer);
  });

  // bull-board's page links a Google Fonts stylesheet: every operator opening the dashboard would
  // tell Google so, and behind a firewall the page waits on it. Its pages may load styles and
  // fonts from this server only (they fall back to the system's); scripts are left as they are.
  // No other site may frame them: with DASHBOARD_WRITE, a page that framed the board under the
  // operator's saved credentials could lure a click onto "clean" or "retry all".
  // The link itself is taken out of the page too: refused, it logged an error in the browser's
  // console on every page, read by an operator looking there for a real fault.
  app.addHook('onSend', async (_request, reply, payload) => {
    if (!String(reply.getHeader('content-type') ?? '').startsWith('text/html')) return payload;
    void reply.header(
      'content-security-policy',
      "style-src 'self' 'unsafe-inline'; font-src 'self' data:; frame-ancestors 'none'",
    );
    return typeof payload === 'string' ? payload.replace(GOOGLE_FONTS_LINK, '') : payload;
  });

  // bull-board's page asks for a job by its id decoded once too often (see encodedJobIds): the
  // id it means is looked up here, so the job of a customer whose id is an email opens.
  app.addHook('preHandler', async (request) => {
    const params = request.params as { queueName?: unknown; jobId?: unknown } | undefined;
    if (typeof params?.queueName !== 'string' || typeof params.jobId !== 'string') return;
    const queue = allQueues(options.engine.shards.current).find((q) => q.name === params.queueName);
    if (queue === undefined || (await queue.getJob(params.jobId)) !== undefined) return;
    const journeyIds = options.engine.catalog.list().map((journey) => journey.id);
    for (const id of encodedJobIds(params.jobId, journeyIds))
      if ((await queue.getJob(id)) !== undefined) {
        params.jobId = id;
        return;
      }
  });

  const pathPrefix = options.pathPrefix ?? '';
  const serverAdapter = new FastifyAdapter();
  // Only the page's <base href>, which its scripts and API calls resolve against: the routes are
  // registered under DASHBOARD_PATH below, where the proxy forwards them.
  serverAdapter.setBasePath(`${pathPrefix}${DASHBOARD_PATH}`);
  const adapt = (queue: Queue) =>
    new BullMQAdapter(queue, { readOnlyMode: !options.write, allowRetries: options.write });
  const { shards } = options.engine;
  const board = createBullBoard({
    queues: allQueues(shards.current).map(adapt),
    serverAdapter,
    options: {
      uiConfig: {
        boardTitle: 'Chorus',
        miscLinks: [{ text: 'Journeys', url: `${pathPrefix}${JOURNEY_PAGES_PATH}` }],
      },
    },
  });
  // Shards another process records later are listed once found.
  const stop = shards.onFound((added) => {
    for (const queue of added.flatMap(shardQueues)) board.addQueue(adapt(queue));
  });
  app.addHook('onClose', async () => stop());
  // `/admin`, typed from memory or cut from a longer link, is the queues' page, not a 404.
  for (const path of ['/admin', '/admin/'])
    app.get(path, { schema: { hide: true } }, async (_request, reply) =>
      reply.redirect(`${pathPrefix}${DASHBOARD_PATH}`),
    );
  await app.register(serverAdapter.registerPlugin(), { prefix: DASHBOARD_PATH });
  await app.register(journeyPages, { engine: options.engine, pathPrefix });
};
