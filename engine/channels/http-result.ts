import type { DeliveryResult } from './channel-adapter.js';
import { ChannelConfigError } from './errors.js';
import { MAX_BODY_BYTES, NotConnectedError } from './http-post.js';

export { MAX_BODY_BYTES };

/** What an HTTP provider answered, body already read (and cut to a size worth logging). */
export interface HttpAnswer {
  status: number;
  /** A response header by (case-insensitive) name. */
  header(name: string): string | undefined;
  body: string;
}

const MAX_REASON_CHARS = 300;

export type NotSent = Exclude<DeliveryResult, { status: 'sent' }>;

/** Delay-seconds, and the fractions some servers send (`1.5`), which JavaScript would read as a date. */
const DELAY_SECONDS = /^\d+(?:\.\d+)?$/;
/** The HTTP-date forms that start with the day's name and a comma: IMF-fixdate and RFC 850's. */
const NAMED_DAY_DATE = /^[A-Z][a-z]{2,8}, /;
/** asctime's form (`Sun Nov  6 08:49:37 1994`), in GMT though it says no zone. */
const ASCTIME_DATE = /^[A-Z][a-z]{2} [A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d \d{4}$/;

/**
 * `Retry-After` as milliseconds from `now`: delay-seconds or an HTTP-date (RFC 9110 10.2.3).
 * `undefined` when absent or unreadable; a date in the past gives 0. Only the HTTP-date forms
 * are read as dates: `Date.parse` takes much else (`1.5` is a day in 2001, so no wait at all),
 * and reads an asctime date in the process's own time zone.
 */
export function parseRetryAfter(value: string | null | undefined, now: number): number | undefined {
  if (value === null || value === undefined) return undefined;
  const text = value.trim();
  if (DELAY_SECONDS.test(text)) return Math.ceil(Number(text) * 1000);
  const at = ASCTIME_DATE.test(text)
    ? Date.parse(`${text} GMT`)
    : NAMED_DAY_DATE.test(text)
      ? Date.parse(text)
      : Number.NaN;
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/**
 * A 504 comes from a gateway in front of the provider that gave up waiting for the provider's
 * answer: the request reached it and may have been carried out. (A 502 mostly means the gateway
 * could not reach the provider at all, and is retried.)
 */
const GATEWAY_LOST_ANSWER = new Set([504]);

/**
 * A non-2xx answer as a delivery result: 408, 429 and 5xx are worth retrying (after `Retry-After`
 * when given), any other status is permanent. A 504 says `mayHaveArrived`. Redirects count as permanent too: adapters never
 * follow them, since a provider API that redirects is misconfigured and a webhook target that
 * redirects could be bouncing the request somewhere it was never allowed to go.
 */
export function failureForStatus(provider: string, answer: HttpAnswer, now: number, why?: string): NotSent {
  const { status } = answer;
  const said = why ?? snippet(answer.body);
  const reason = `${provider} answered HTTP ${status}${said ? `: ${said}` : ''}`;
  if (status === 408 || status === 429 || status >= 500) {
    const afterMs = parseRetryAfter(answer.header('retry-after'), now);
    return {
      status: 'retry',
      reason,
      ...(afterMs === undefined ? {} : { afterMs }),
      ...(GATEWAY_LOST_ANSWER.has(status) ? { mayHaveArrived: true } : {}),
    };
  }
  if (status >= 300 && status < 400) {
    return {
      status: 'failed',
      reason: `${reason} (redirect to ${answer.header('location') ?? '?'} not followed)`,
    };
  }
  return { status: 'failed', reason };
}

/**
 * Errors raised before a request could leave: nothing reached the provider. A refused TLS
 * certificate (expired, self-signed, for another name: Node's and OpenSSL's verification codes)
 * ends the handshake before a byte of the request is written, as does a connect timeout.
 */
const NOT_SENT_CODES = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'UND_ERR_CONNECT_TIMEOUT',
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_REVOKED',
  'CERT_UNTRUSTED',
  'CERT_REJECTED',
  'CERT_SIGNATURE_FAILURE',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'HOSTNAME_MISMATCH',
  'INVALID_CA',
]);

/** Whether a request's error is its deadline running out (AbortSignal.timeout, or an abort at it). */
export function isTimeout(error: unknown): boolean {
  return error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError');
}

/**
 * A request that got no answer (refused, reset, timed out): the provider may be back soon. Unless
 * the connection was never made, the request may have arrived: `mayHaveArrived` says so.
 */
export function retryForNetworkError(provider: string, error: unknown, timeoutMs: number): NotSent {
  if (error instanceof NotConnectedError) {
    // Nothing was written: a plain retry, which may fail for good once attempts run out.
    const why = isTimeout(error.cause) ? `no connection within ${timeoutMs} ms` : describeError(error.cause);
    return { status: 'retry', reason: `${provider} could not be reached: ${why}` };
  }
  if (isTimeout(error)) {
    return {
      status: 'retry',
      reason: `${provider} did not answer within ${timeoutMs} ms`,
      mayHaveArrived: true,
    };
  }
  const reason = `${provider} could not be reached: ${describeError(error)}`;
  return NOT_SENT_CODES.has(errorCode(error) ?? '')
    ? { status: 'retry', reason }
    : { status: 'retry', reason, mayHaveArrived: true };
}

/** The system error code of an error or of its cause (a wrapped socket error). */
function errorCode(error: unknown): string | undefined {
  for (let e = error; e instanceof Error; e = e.cause) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string') return code;
  }
  return undefined;
}

/** The start of a body, on one line, for a reason string. */
export function snippet(text: string): string {
  const line = text.replace(/\s+/g, ' ').trim();
  return line.length > MAX_REASON_CHARS ? `${line.slice(0, MAX_REASON_CHARS)}…` : line;
}

export function describeError(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause = error.cause instanceof Error ? ` (${error.cause.message})` : '';
  return `${error.message}${cause}`;
}

/** JSON.parse that answers `undefined` instead of throwing: provider error bodies are not always JSON. */
export function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

/** A string field of a parsed JSON object, if it is one. */
export function stringField(value: unknown, key: string): string | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const field = (value as Record<string, unknown>)[key];
  return typeof field === 'string' ? field : undefined;
}

/** A provider base URL without its trailing slash, or a config error naming the option. */
export function httpBase(value: string, option: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch (error) {
    throw new ChannelConfigError(
      option,
      `${option} "${value}" is not a URL. To fix: use an https:// origin.`,
      {
        cause: error,
      },
    );
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new ChannelConfigError(
      option,
      `${option} "${value}" is not http(s). To fix: use an https:// origin.`,
    );
  }
  return value.replace(/\/+$/, '');
}
