import { ChorusError } from '../errors.js';
import type { FieldIssue } from '../ingest/ingest-schema.js';

/** An error the HTTP API answers with a status of its own; its body is `{ error: { code, message } }`. */
export class HttpError extends ChorusError {
  constructor(
    readonly status: number,
    code: string,
    message: string,
    readonly headers: Readonly<Record<string, string>> = {},
  ) {
    super(code, message);
  }

  /** What Fastify and its plugins' own error handlers (bull-board's) read as the status. */
  get statusCode(): number {
    return this.status;
  }
}

export class UnauthorizedError extends HttpError {
  constructor(message: string, challenge: string) {
    super(401, 'CHORUS_UNAUTHORIZED', message, { 'www-authenticate': challenge });
  }
}

/** The challenge of a 401 for an in-app token (RFC 6750 §3): what a browser app reads to get a new one. */
const IN_APP_TOKEN_CHALLENGE = (error: string) => `Bearer realm="chorus", error="${error}"`;

/**
 * A 401 for an in-app token that none of IN_APP_TOKEN_SECRET and its previous secrets signed (or
 * that is not one), or one that has expired: the app asks its backend for a new one.
 */
export class InAppTokenInvalidError extends HttpError {
  constructor(message: string) {
    super(401, 'CHORUS_IN_APP_TOKEN_INVALID', message, {
      'www-authenticate': IN_APP_TOKEN_CHALLENGE('invalid_token'),
    });
  }
}

export class InAppTokenExpiredError extends HttpError {
  constructor(message: string) {
    super(401, 'CHORUS_IN_APP_TOKEN_EXPIRED', message, {
      'www-authenticate': IN_APP_TOKEN_CHALLENGE('invalid_token'),
    });
  }
}

/** A 403 for a valid in-app token of another customer than the route's. */
export class InAppTokenWrongCustomerError extends HttpError {
  constructor(message: string) {
    super(403, 'CHORUS_IN_APP_TOKEN_WRONG_CUSTOMER', message);
  }
}

export class NotFoundError extends HttpError {
  constructor(message: string) {
    super(404, 'CHORUS_NOT_FOUND', message);
  }
}

export class ServiceUnavailableError extends HttpError {
  constructor(message: string) {
    super(503, 'CHORUS_UNAVAILABLE', message, { 'retry-after': '1' });
  }
}

/**
 * The 503 of a request refused before it is handled because Redis is not connected: what every
 * request gets during an outage, so it is logged as one (see OutageLog), not as a failure.
 */
export class RedisAwayError extends ServiceUnavailableError {}

export class RateLimitedError extends HttpError {
  constructor(limit: number, retryAfterSeconds: number) {
    super(
      429,
      'CHORUS_RATE_LIMITED',
      `This API key (or, without a valid key, this address) sent more than ${limit} requests in the current window. ` +
        `To fix: retry after ${retryAfterSeconds} s, send events in batches with /v1/batch, or raise API_RATE_LIMIT.`,
      { 'retry-after': String(retryAfterSeconds) },
    );
  }
}

/** The JSON body of every error answer. */
export interface ErrorBody {
  error: { code: string; message: string; issues?: readonly FieldIssue[]; requestId: string };
}
