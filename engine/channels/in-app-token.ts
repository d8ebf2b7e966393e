import { openToken, sealToken, verifyWithAny } from '../signed-token.js';

/** How long an in-app token is valid by default: an app asks its backend for a fresh one hourly. */
export const DEFAULT_IN_APP_TOKEN_TTL_SECONDS = 3600;

/** The longest an in-app token may be valid: one that leaks opens the inbox no longer than this. */
export const MAX_IN_APP_TOKEN_TTL_SECONDS = 7 * 86_400;

export interface InAppTokenOptions {
  /** Seconds the token is valid for, 1 to MAX_IN_APP_TOKEN_TTL_SECONDS; default one hour. */
  ttlSeconds?: number;
  /** "Now", epoch ms; default `Date.now()`. */
  now?: number;
}

/** What an in-app token stands for: one customer's inbox, until `exp`. */
export interface InAppTokenClaim {
  userId: string;
  /** Expiry, epoch ms. */
  exp: number;
}

/** Why a token was not taken: not signed with any of the secrets (or not a token), or expired. */
export type InAppTokenCheck =
  { ok: true; claim: InAppTokenClaim } | { ok: false; reason: 'invalid' | 'expired'; exp?: number };

// Signed under a purpose of its own: no other token of a secret shared by mistake passes for one.
const PURPOSE = { purpose: 'in-app' };

/**
 * A token that lets an app read and update one customer's in-app inbox, and nothing else:
 * `Authorization: Bearer <token>` on `GET /v1/customers/:userId/in-app` and its `read` and
 * `dismiss` routes. Made by the app's own backend, once it knows who is signed in, with
 * IN_APP_TOKEN_SECRET; the API key never leaves that backend.
 *
 * @example
 * ```ts
 * // In the app backend's "who am I" handler, after its own login check (see docs/examples/in-app-token.ts):
 * const token = createInAppToken(process.env.IN_APP_TOKEN_SECRET!, 'ada', { ttlSeconds: 3600 });
 * ```
 */
export function createInAppToken(secret: string, userId: string, options: InAppTokenOptions = {}): string {
  const ttlSeconds = options.ttlSeconds ?? DEFAULT_IN_APP_TOKEN_TTL_SECONDS;
  if (!Number.isInteger(ttlSeconds) || ttlSeconds < 1 || ttlSeconds > MAX_IN_APP_TOKEN_TTL_SECONDS)
    throw new RangeError(
      `ttlSeconds must be a whole number from 1 to ${MAX_IN_APP_TOKEN_TTL_SECONDS} (7 days), not ${ttlSeconds}. ` +
        'To fix: give a shorter life and have the app ask for a new token when one expires.',
    );
  if (userId.length === 0) throw new RangeError('userId must not be empty. To fix: pass the customer id.');
  return sealToken(secret, { u: userId, e: (options.now ?? Date.now()) + ttlSeconds * 1000 }, PURPOSE);
}

/**
 * Whether `token` was signed with one of `secrets` (the current one first, then those it had
 * before a rotation) and has not expired at `now`.
 */
export function checkInAppToken(secrets: readonly string[], token: string, now: number): InAppTokenCheck {
  const claim = verifyWithAny(secrets, (secret) => {
    const { u, e } = (openToken(secret, token, PURPOSE) ?? {}) as Record<string, unknown>;
    return typeof u === 'string' && u.length > 0 && typeof e === 'number' ? { userId: u, exp: e } : undefined;
  });
  if (claim === undefined) return { ok: false, reason: 'invalid' };
  if (claim.exp <= now) return { ok: false, reason: 'expired', exp: claim.exp };
  return { ok: true, claim };
}
