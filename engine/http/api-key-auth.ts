import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import { UnauthorizedError } from './http-errors.js';

const digest = (value: string) => createHash('sha256').update(value).digest();

/**
 * Checks the request's API key: `Authorization: Bearer <key>`, or HTTP basic auth with the key as
 * the user name, which is how Segment libraries send their write key. Keys are compared as
 * digests in constant time; several keys may be valid at once, for rotation.
 */
export function apiKeyChecker(keys: readonly string[]) {
  const digests = keys.map(digest);

  /** A short, non-secret label of the key the request carries (for rate limiting), if valid. */
  // The rate limit and the auth hook both ask for each request's key: hash it once per request.
  const checked = new WeakMap<FastifyRequest, string | undefined>();

  function keyOf(request: FastifyRequest): string | undefined {
    if (checked.has(request)) return checked.get(request);
    const label = check(request.headers.authorization);
    checked.set(request, label);
    return label;
  }

  function check(authorization: string | undefined): string | undefined {
    const presented = presentedKey(authorization);
    if (presented === undefined) return undefined;
    const given = digest(presented);
    const index = digests.findIndex((d) => timingSafeEqual(d, given));
    return index === -1 ? undefined : `key-${given.subarray(0, 6).toString('hex')}`;
  }

  async function requireKey(request: FastifyRequest): Promise<void> {
    if (keyOf(request) !== undefined) return;
    throw new UnauthorizedError(
      request.headers.authorization
        ? 'The API key is not valid. To fix: use a key from API_KEY.'
        : 'This route needs an API key. To fix: send `Authorization: Bearer <API_KEY>`.',
      'Bearer realm="chorus"',
    );
  }

  return { keyOf, requireKey };
}

function presentedKey(header: string | undefined): string | undefined {
  if (!header) return undefined;
  const [scheme, value] = header.split(' ', 2);
  if (!value) return undefined;
  if (scheme?.toLowerCase() === 'bearer') return value.trim();
  if (scheme?.toLowerCase() === 'basic') {
    const decoded = Buffer.from(value, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    return colon === -1 ? decoded : decoded.slice(0, colon);
  }
  return undefined;
}
