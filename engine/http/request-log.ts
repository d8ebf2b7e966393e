import type { FastifyBaseLogger, FastifyRequest } from 'fastify';

/**
 * `url` with the signed tokens of the links the engine sends masked: an unsubscribe or double
 * opt-in link's `token`, a tracked link's, short link's or open pixel's path. Mail security scanners open every
 * link of an email, so these reach the log before the customer does, and whoever reads the log
 * could otherwise confirm a double opt-in, or unsubscribe a customer, in the customer's name.
 *
 * @example
 * maskLinkTokens('/v1/consent/confirm?token=abc'); // '/v1/consent/confirm?token=***'
 */
export function maskLinkTokens(url: string): string {
  return url.replace(/^(\/t\/[cos]\/)[^?#]*/, '$1***').replace(/([?&]token=)[^&#]*/g, '$1***');
}

/**
 * The app's logger, its request lines (Fastify's `req` serializer, fields unchanged) with
 * {@link maskLinkTokens} applied to the URL.
 */
export function requestLogger(logger: FastifyBaseLogger): FastifyBaseLogger {
  return logger.child(
    {},
    {
      serializers: {
        req: (request: FastifyRequest) => ({
          method: request.method,
          url: maskLinkTokens(request.url),
          version: request.headers['accept-version'],
          host: request.host,
          remoteAddress: request.ip,
          remotePort: request.socket?.remotePort,
        }),
      },
    },
  );
}
