import { hash, timingSafeEqual } from 'node:crypto';
import type { Socket } from 'node:net';
import type { FastifyRequest } from 'fastify';
import { UnauthorizedError } from './http-errors.js';

const digest = (value: string) => hash('sha256', value, 'buffer');

/**
 * The challenges of a 401 for a missing or wrong key, one per scheme the key is taken in (RFC 9110
 * §11.6.1): Bearer, and Basic with the key as user name, read as UTF-8 (RFC 7617 §2.1).
 */
const API_KEY_CHALLENGE = 'Bearer realm="chorus", Basic realm="chorus", charset="UTF-8"';

/** What one connection last presented as `Authorization`, and the key label it was found to be. */
interface LastPresented {
  authorization: string;
  label: string | undefined;
}

/**
 * Checks the request's API key: `Authorization: Bearer <key>`, or HTTP basic auth with the key as
 * the user name, which is how Segment libraries send their write key. Keys are compared as
 * digests in constant time; several keys may be valid at once, for rotation.
 */
export function apiKeyChecker(keys: readonly string[]) {
  const digests = keys.map(digest);
  const labels = digests.map((d) => `key-${d.subarray(0, 6).toString('hex')}`);

  // The rate limit and the auth hook both ask for each request's key, and a client sends the same
  // header on every request of a keep-alive connection: it is checked once per connection and
  // header. The memo is compared only with what the same connection sent before, so its timing
  // tells a caller nothing about a key it did not send; a new header is checked as digests.
  const lastOnSocket = new WeakMap<Socket, LastPresented>();

  /** A short, non-secret label of the key the request carries (for rate limiting), if valid. */
  function keyOf(request: FastifyRequest): string | undefined {
    const authorization = request.headers.authorization;
    if (authorization === undefined) return undefined;
    const socket = request.raw.socket as Socket | null | undefined;
    const last = socket ? lastOnSocket.get(socket) : undefined;
    if (last !== undefined && last.authorization === authorization) return last.label;
    const label = check(authorization);
    if (socket) lastOnSocket.set(socket, { authorization, label });
    return label;
  }

  function check(authorization: string): string | undefined {
    const presented = presentedKey(authorization);
    if (presented === undefined) return undefined;
    const given = digest(presented);
    const index = digests.findIndex((d) => timingSafeEqual(d, given));
    return index === -1 ? undefined : labels[index];
  }

  async function requireKey(request: FastifyRequest): Promise<void> {
    if (keyOf(request) !== undefined) return;
    throw new UnauthorizedError(
      request.headers.authorization
        ? 'The API key is not valid. To fix: use a key from API_KEY.'
        : 'This route needs an API key. To fix: send `Authorization: Bearer <API_KEY>`.',
      API_KEY_CHALLENGE,
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
