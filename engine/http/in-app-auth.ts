import { hash } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import { checkInAppToken, type InAppTokenCheck } from '../channels/in-app-token.js';
import type { Clock } from '../clock.js';
import {
  InAppTokenExpiredError,
  InAppTokenInvalidError,
  InAppTokenWrongCustomerError,
} from './http-errors.js';
import { IN_APP_ROUTE_URLS } from './routes/in-app-routes.js';

// What a signed token looks like (see sealToken); an API key, which has no dot, never does.
const TOKEN_SHAPE = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;

/**
 * Lets the in-app routes, and no other, take `Authorization: Bearer <in-app token>` for the
 * customer the URL names (see createInAppToken). Without secrets (IN_APP_TOKEN_SECRET unset),
 * no token is taken and those routes need the API key as every `/v1/*` route does.
 */
export function inAppTokenAuth(secrets: readonly string[], clock: Clock) {
  const checked = new WeakMap<FastifyRequest, InAppTokenCheck | undefined>();

  /** The check of the token the request carries, or undefined when it carries none for this route. */
  function tokenCheck(request: FastifyRequest): InAppTokenCheck | undefined {
    if (checked.has(request)) return checked.get(request);
    const check = secrets.length > 0 ? checkRequest(request) : undefined;
    checked.set(request, check);
    return check;
  }

  function checkRequest(request: FastifyRequest): InAppTokenCheck | undefined {
    if (!IN_APP_ROUTE_URLS.has(request.routeOptions.url ?? '')) return undefined;
    const [scheme, value] = (request.headers.authorization ?? '').split(' ', 2);
    const token = value?.trim();
    if (scheme?.toLowerCase() !== 'bearer' || !token || !TOKEN_SHAPE.test(token)) return undefined;
    return checkInAppToken(secrets, token, clock.now());
  }

  function routeUserId(request: FastifyRequest): string | undefined {
    const userId = (request.params as Record<string, unknown> | undefined)?.userId;
    return typeof userId === 'string' ? userId : undefined;
  }

  /**
   * A non-secret label for the rate limit of a request with a valid token for its customer: each
   * customer's app has a limit of its own, rather than sharing one with everyone behind its address.
   */
  function labelOf(request: FastifyRequest): string | undefined {
    const check = tokenCheck(request);
    if (!check?.ok || check.claim.userId !== routeUserId(request)) return undefined;
    return `in-app-${hash('sha256', check.claim.userId, 'hex').slice(0, 16)}`;
  }

  /**
   * Whether the request is let in by an in-app token; throws (401, 403) for a token that does not
   * let it in; false when it carries none, and the API key decides.
   */
  function accepts(request: FastifyRequest): boolean {
    const check = tokenCheck(request);
    if (check === undefined) return false;
    if (!check.ok && check.reason === 'expired')
      throw new InAppTokenExpiredError(
        `This in-app token expired at ${new Date(check.exp!).toISOString()}. ` +
          'To fix: ask your backend for a new one (createInAppToken) and retry.',
      );
    if (!check.ok)
      throw new InAppTokenInvalidError(
        'This in-app token is not valid: it was not signed with IN_APP_TOKEN_SECRET (or a secret in ' +
          'IN_APP_TOKEN_PREVIOUS_SECRETS), or it was changed. To fix: make it with createInAppToken and ' +
          'the same IN_APP_TOKEN_SECRET as the API.',
      );
    if (check.claim.userId !== routeUserId(request))
      throw new InAppTokenWrongCustomerError(
        "This in-app token is for another customer than the URL's. To fix: use the token's own " +
          'customer id in the URL, or make a token for this customer.',
      );
    return true;
  }

  return { labelOf, accepts };
}
