import { maskLinkTokens } from './request-log.js';
import type { FastifyError, FastifyInstance } from 'fastify';
import { hasZodFastifySchemaValidationErrors } from 'fastify-type-provider-zod';
import type { RedisConnection } from '../redis/connection.js';
import { WebhookVerificationError } from '../channels/errors.js';
import { ChorusError } from '../errors.js';
import { InvalidInputError, type FieldIssue } from '../ingest/ingest-schema.js';
import { JourneyNotFoundError } from '../journey/journey-catalog.js';
import { CustomerBusyError } from '../store/customer-erasure.js';
import { HttpError, RedisAwayError, type ErrorBody } from './http-errors.js';
import { OutageLog, type OutageKind } from './outage-log.js';

interface Answer {
  status: number;
  code: string;
  message: string;
  issues?: readonly FieldIssue[];
  headers?: Readonly<Record<string, string>>;
  /** A refusal every request gets while Redis is out: logged as the outage, not as a failure. */
  outage?: OutageKind;
}

export interface ErrorHandlerOptions {
  /** Which refusals of a Redis outage are logged; default a new OutageLog. */
  outageLog?: OutageLog;
}

/**
 * One place that turns every failure into `{ error: { code, message, issues?, requestId } }` with
 * the right status. Anything unexpected is logged with the request id and answered 500 without
 * details; a Redis that is away is 503, so clients retry. Those 503s are what every request gets
 * during an outage: they are logged at warn, without a stack, once per interval and kind (see
 * OutageLog), so the log of an outage is not a stack trace per request.
 */
export function installErrorHandler(
  app: FastifyInstance,
  redis: RedisConnection,
  options: ErrorHandlerOptions = {},
): void {
  const outageLog = options.outageLog ?? new OutageLog();
  app.setErrorHandler((error: FastifyError, request, reply) => {
    const answer = classify(error, redis, {
      // Masked as in the request log: a tracked link's path is its signed token.
      what: `${request.method} ${maskLinkTokens(request.url.split('?')[0]!)}`,
      bodyMissing: request.body === undefined,
      bodyLimit: request.routeOptions.bodyLimit,
    });
    if (answer.outage !== undefined) {
      const told = outageLog.take(answer.outage);
      if (told)
        request.log.warn(
          {
            code: answer.code,
            status: answer.status,
            outage: answer.outage,
            // The connection's error in a word; its stack is ioredis's, the same every time.
            ...(answer.outage === 'redis-lost' ? { cause: error.message } : {}),
            ...(told.unloggedSince > 0 ? { unloggedSince: told.unloggedSince } : {}),
          },
          answer.message,
        );
    } else if (answer.status >= 500) request.log.error({ err: error }, answer.message);
    else request.log.info({ code: answer.code, status: answer.status }, answer.message);
    const body: ErrorBody = {
      error: {
        code: answer.code,
        message: answer.message,
        ...(answer.issues ? { issues: answer.issues } : {}),
        requestId: request.id,
      },
    };
    void reply
      .code(answer.status)
      .headers(answer.headers ?? {})
      .send(body);
  });

  app.setNotFoundHandler((request, reply) => {
    const body: ErrorBody = {
      error: {
        code: 'CHORUS_NOT_FOUND',
        message: `No route ${request.method} ${request.url.split('?')[0]}. To fix: see /docs for the API.`,
        requestId: request.id,
      },
    };
    void reply.code(404).send(body);
  });
}

/** The answer to a URL the router cannot read (bad percent-encoding, a path segment too long). */
export function urlErrorBody(error: FastifyError, requestId: string): ErrorBody {
  return {
    error: {
      code: 'CHORUS_BAD_REQUEST',
      message: `The URL cannot be read: ${error.message}. To fix: percent-encode each path segment as UTF-8.`,
      requestId,
    },
  };
}

function classify(
  error: FastifyError,
  redis: RedisConnection,
  request: { what: string; bodyMissing: boolean; bodyLimit: number },
): Answer {
  const { what } = request;
  if (hasZodFastifySchemaValidationErrors(error)) {
    const where = error.validationContext ?? 'body';
    const issues = error.validation.map((issue) => ({
      field: `${where}${issue.instancePath.replaceAll('/', '.')}`.replace(/\.$/, ''),
      // Fastify validates an absent body as null: say it is missing rather than "received null".
      message:
        where === 'body' && issue.instancePath === '/' && request.bodyMissing
          ? 'required: this route takes a JSON body, and the request had none'
          : (issue.message ?? 'invalid'),
    }));
    return {
      status: 400,
      code: 'CHORUS_INVALID_INPUT',
      message: `Invalid request: ${issues.map((i) => `${i.field}: ${i.message}`).join('; ')}. To fix: correct the named fields.`,
      issues,
    };
  }
  if (error instanceof InvalidInputError)
    return { status: 400, code: error.code, message: error.message, issues: error.issues };
  if (error instanceof RedisAwayError) return { ...httpAnswer(error), outage: 'redis-away' };
  if (error instanceof HttpError) return httpAnswer(error);
  if (error instanceof WebhookVerificationError)
    return { status: 401, code: error.code, message: error.message };
  if (error instanceof JourneyNotFoundError) return { status: 404, code: error.code, message: error.message };
  if (error instanceof CustomerBusyError)
    return { status: 409, code: error.code, message: error.message, headers: { 'retry-after': '2' } };
  if (error.code === 'FST_ERR_CTP_BODY_TOO_LARGE')
    return {
      status: 413,
      code: 'CHORUS_BODY_TOO_LARGE',
      // The sender (a Segment library's log line, say) is told the limit, and the operator its name.
      message: `The request body is larger than the ${request.bodyLimit} bytes this server accepts (BODY_LIMIT; a gzip or deflate body counts as it inflates). To fix: send smaller batches, or raise BODY_LIMIT.`,
    };
  if (error.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE')
    return {
      status: 415,
      code: 'CHORUS_UNSUPPORTED_MEDIA_TYPE',
      message: `Content-Type must be application/json. To fix: send JSON with that header.`,
    };
  if (error.statusCode === 400 && (error instanceof SyntaxError || error.code?.startsWith('FST_ERR_CTP')))
    return {
      status: 400,
      code: 'CHORUS_INVALID_JSON',
      message: `The body is not valid JSON (${error.message}). To fix: send one JSON object.`,
    };
  if (error.statusCode === 401)
    return {
      status: 401,
      code: 'CHORUS_UNAUTHORIZED',
      message: 'Wrong or missing credentials. To fix: use DASHBOARD_USER and DASHBOARD_PASSWORD.',
    };
  // A plugin's refusal (a static file path it will not serve) may be one word: say what it refused.
  if (error.statusCode !== undefined && error.statusCode >= 400 && error.statusCode < 500)
    return {
      status: error.statusCode,
      code: 'CHORUS_BAD_REQUEST',
      message: `${what.slice(0, 300)} was refused: ${error.message}. To fix: correct the request as the message says.`,
    };
  // Redis went away while the request was being handled: some of it (a batch's first calls, or a
  // call whose reply was lost) may be stored already, so the answer cannot say that nothing was.
  const lost = isConnectionError(error);
  if (redis.status !== 'ready' || lost)
    return {
      // A failure that is no lost connection may be a bug that came at the same time: logged as one.
      ...(lost ? { outage: 'redis-lost' as const } : {}),
      status: 503,
      code: 'CHORUS_UNAVAILABLE',
      message:
        'Redis became unreachable while the request was handled; what it changes may be stored in part or not at all. To fix: retry shortly (a track, identify or batch call sent again with the same messageIds is applied once).',
      headers: { 'retry-after': '1' },
    };
  if (error instanceof ChorusError) return { status: 500, code: error.code, message: error.message };
  return {
    status: 500,
    code: 'CHORUS_INTERNAL',
    message: 'Something went wrong on the server; it is logged with this request id.',
  };
}

function httpAnswer(error: HttpError): Answer {
  return { status: error.status, code: error.code, message: error.message, headers: error.headers };
}

function isConnectionError(error: Error): boolean {
  return (
    error.name === 'MaxRetriesPerRequestError' ||
    /enableOfflineQueue|Connection is closed|ECONNREFUSED|ECONNRESET|ETIMEDOUT|Command timed out/.test(
      error.message,
    )
  );
}
