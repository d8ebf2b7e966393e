import type { Clock } from '../clock.js';
import { NotConnectedError, postWithTimeout } from './http-post.js';
import { describeError, isTimeout, parseJson, snippet, stringField } from './http-result.js';
import { ASSERTION_LIFETIME_S, signAssertion, type SigningAccount } from './service-account.js';

/** A token, or why none could be had (the token endpoint refused, or did not answer). */
export type TokenAnswer = { ok: true; token: string } | { ok: false; reason: string };

/** OAuth 2 access tokens for one API, fetched when needed and kept while they are good. */
export interface AccessTokens {
  /** A token good for now. */
  get(): Promise<TokenAnswer>;
  /**
   * The API refused `rejected` (HTTP 401): a fresh token, or `undefined` when this source has
   * no other to give.
   */
  renew(rejected: string): Promise<TokenAnswer | undefined>;
}

export interface ServiceAccountTokensOptions {
  account: SigningAccount;
  /** The OAuth 2 scope asked for, e.g. `https://www.googleapis.com/auth/firebase.messaging`. */
  scope: string;
  /** Times the assertion and the token's expiry. */
  clock: Clock;
  /** Deadline for one token request. */
  timeoutMs: number;
  /** A token is replaced this long before it expires; default 5 minutes (as Google's libraries do). */
  refreshBeforeMs?: number;
}

/**
 * Access tokens for a service account: a signed assertion (RS256 JWT) exchanged at the account's
 * token URI (`urn:ietf:params:oauth:grant-type:jwt-bearer`), the token kept until shortly
 * before it expires. Callers that ask while a token is being fetched share that one request.
 */
export function serviceAccountTokens(options: ServiceAccountTokensOptions): AccessTokens {
  const { account, scope, clock, timeoutMs } = options;
  const refreshBeforeMs = options.refreshBeforeMs ?? 5 * 60_000;
  let current: { token: string; refreshAt: number } | undefined;
  let pending: Promise<TokenAnswer> | undefined;

  async function fetchToken(): Promise<TokenAnswer> {
    const answer = await exchange(account, scope, clock.now(), timeoutMs);
    if (answer.ok) {
      // A token shorter-lived than twice the margin is kept for half its life instead.
      const keepMs = Math.max(answer.lifetimeMs - refreshBeforeMs, answer.lifetimeMs / 2);
      current = { token: answer.token, refreshAt: clock.now() + keepMs };
    }
    return answer;
  }

  /** The one request under way, or a new one. */
  function shared(): Promise<TokenAnswer> {
    pending ??= fetchToken().finally(() => {
      pending = undefined;
    });
    return pending;
  }

  return {
    async get() {
      if (current && clock.now() < current.refreshAt) return { ok: true, token: current.token };
      return shared();
    },
    async renew(rejected) {
      // Only the first of several sends refused with the same token fetches a new one; the
      // others find it already replaced, or join the request under way.
      if (current?.token === rejected) current = undefined;
      const answer = current ? { ok: true as const, token: current.token } : await shared();
      return answer.ok && answer.token === rejected ? undefined : answer;
    },
  };
}

/** One exchange of a fresh assertion for an access token. */
async function exchange(
  account: SigningAccount,
  scope: string,
  now: number,
  timeoutMs: number,
): Promise<{ ok: true; token: string; lifetimeMs: number } | { ok: false; reason: string }> {
  const form = new URLSearchParams({
    grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer',
    assertion: signAssertion(account, scope, now),
  });
  let answer;
  try {
    answer = await postWithTimeout(account.tokenUri, {
      headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
      body: form.toString(),
      timeoutMs,
    });
  } catch (error) {
    const met = error instanceof NotConnectedError ? error.cause : error;
    return {
      ok: false,
      reason: isTimeout(met)
        ? `the token endpoint ${account.tokenUri} did not answer within ${timeoutMs} ms`
        : `the token endpoint ${account.tokenUri} could not be reached: ${describeError(met)}`,
    };
  }
  const json = parseJson(answer.body);
  const token = stringField(json, 'access_token');
  if (answer.status !== 200 || !token) {
    // OAuth 2 errors: { error: "invalid_grant", error_description: "Invalid JWT Signature." }
    const said = [stringField(json, 'error'), stringField(json, 'error_description')].filter(Boolean);
    return {
      ok: false,
      reason:
        `the token endpoint ${account.tokenUri} answered HTTP ${answer.status}` +
        `${said.length ? `: ${snippet(said.join(' '))}` : ''} for service account ${account.email}`,
    };
  }
  const expiresIn = (json as { expires_in?: unknown }).expires_in;
  // Without `expires_in` (it is only RECOMMENDED by RFC 6749), assume the assertion's lifetime.
  const seconds = typeof expiresIn === 'number' && expiresIn > 0 ? expiresIn : ASSERTION_LIFETIME_S;
  return { ok: true, token, lifetimeMs: seconds * 1000 };
}
