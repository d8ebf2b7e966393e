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
