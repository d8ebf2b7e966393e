import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';

/** The headers an app may send to the in-app routes, besides those a browser always allows. */
const ALLOWED_HEADERS = 'authorization, content-type, x-request-id';
/** Headers of an answer a page may read: the id to quote, and how long to wait after a 429 or 503. */
const EXPOSED_HEADERS = 'x-request-id, retry-after';
/** How long a browser keeps a preflight's answer, in seconds. */
const PREFLIGHT_MAX_AGE = '600';

/**
 * CORS for the in-app routes only (IN_APP_CORS_ORIGINS), so a web app can read its customer's
 * inbox with an in-app token: an allowed `Origin` is echoed back, any other gets no CORS header
 * and the browser keeps the answer from the page. No credentials (cookies) are allowed: the
 * token travels in `Authorization`.
 */
export function inAppCors(origins: readonly string[]) {
  const allowed = new Set(origins);

  /** The CORS headers of an answer to `request`: none unless its origin is allowed. */
  function headersFor(request: FastifyRequest): Record<string, string> {
    const origin = request.headers.origin;
    return origin !== undefined && allowed.has(origin)
      ? { 'access-control-allow-origin': origin, 'access-control-expose-headers': EXPOSED_HEADERS }
      : {};
  }

  /** Adds them to every answer of the in-app routes, refusals included, so the app can read its code. */
  function addHeaders(
    request: FastifyRequest,
    reply: FastifyReply,
    payload: unknown,
    done: (err: null, payload: unknown) => void,
  ) {
    if (allowed.size > 0) void reply.headers(headersFor(request)).header('vary', 'Origin');
    done(null, payload);
  }

  /**
   * Answers browsers' preflight `OPTIONS` for each in-app route; needs neither key nor Redis. Not
   * in the reference: no client calls them, a browser does on its own.
   */
  function preflightRoutes(urls: readonly string[]): FastifyPluginAsync {
    return async (app) => {
      for (const url of urls) {
        app.options(url, { schema: { hide: true } }, async (request, reply) => {
          const headers = headersFor(request);
          if (headers['access-control-allow-origin'] !== undefined)
            void reply.headers({
              'access-control-allow-origin': headers['access-control-allow-origin'],
              'access-control-allow-methods': 'GET, POST',
              'access-control-allow-headers': ALLOWED_HEADERS,
              'access-control-max-age': PREFLIGHT_MAX_AGE,
            });
          return reply.header('vary', 'Origin').code(204).send();
        });
      }
    };
  }

  return { addHeaders, preflightRoutes };
}
