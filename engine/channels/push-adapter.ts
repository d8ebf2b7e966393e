import { systemClock, type Clock } from '../clock.js';
import type { ChannelAdapter, DeliveryResult } from './channel-adapter.js';
import {
  describeError,
  failureForStatus,
  fetchWithTimeout,
  httpBase,
  parseJson,
  retryForNetworkError,
  snippet,
  stringField,
  type HttpAnswer,
} from './http-result.js';

export interface PushAdapterOptions {
  /** The Firebase project id. */
  projectId: string;
  /**
   * An OAuth 2 access token for the FCM scope, or a function returning a fresh one (called for
   * every send, so it should cache: google-auth-library's `getAccessToken()` does).
   */
  accessToken: string | (() => Promise<string>);
  /** The API origin; default `https://fcm.googleapis.com`. */
  baseUrl?: string;
  /** Deadline for the whole request; default 10 000 ms. */
  timeoutMs?: number;
  /** For reading `Retry-After` dates; default the system clock. */
  clock?: Clock;
}

/** FCM error codes meaning the device token will never work again: the customer's token must go. */
const DEAD_TOKEN_CODES = new Set(['UNREGISTERED', 'INVALID_ARGUMENT', 'SENDER_ID_MISMATCH']);

/**
 * Push notifications through the FCM HTTP v1 API (`projects/<id>/messages:send`). `sent` carries
 * FCM's message `name`. An unregistered or malformed device token fails with a reason saying so,
 * so the token can be removed from the customer's traits.
 *
 * @example
 * ```ts
 * const push = createPushAdapter({ projectId: 'acme-app', accessToken: () => auth.getAccessToken() });
 * await push.send(delivery); // { status: 'sent', providerId: 'projects/acme-app/messages/0:17…' }
 * ```
 */
export function createPushAdapter(options: PushAdapterOptions): ChannelAdapter {
  const base = httpBase(options.baseUrl ?? 'https://fcm.googleapis.com', 'baseUrl');
  const url = `${base}/v1/projects/${encodeURIComponent(options.projectId)}/messages:send`;
  const timeoutMs = options.timeoutMs ?? 10_000;
  const clock = options.clock ?? systemClock;
  const token = options.accessToken;

  return {
    channel: 'push',
    provider: 'fcm',
    idempotent: false,
    async send(delivery): Promise<DeliveryResult> {
      const { rendered, address } = delivery;
      if (rendered.channel !== 'push') {
        return {
          status: 'failed',
          reason: `the push adapter was given a message rendered for ${rendered.channel}`,
        };
      }
      if (!address.pushToken) {
        return { status: 'failed', reason: `customer ${delivery.customerId} has no push token` };
      }
      let accessToken: string;
      try {
        accessToken = typeof token === 'string' ? token : await token();
      } catch (error) {
        return { status: 'retry', reason: `could not get an FCM access token: ${describeError(error)}` };
      }
      const body = JSON.stringify({
        message: {
          token: address.pushToken,
          notification: { title: rendered.title, body: rendered.body },
          // FCM data values must be strings.
          data: { url: rendered.url, opId: delivery.opId },
        },
      });
      let answer: HttpAnswer;
      try {
        answer = await fetchWithTimeout(
          url,
          {
            method: 'POST',
            headers: {
              authorization: `Bearer ${accessToken}`,
              'content-type': 'application/json; charset=utf-8',
            },
            body,
          },
          timeoutMs,
        );
      } catch (error) {
        return retryForNetworkError('FCM', error, timeoutMs);
      }
      if (answer.status >= 200 && answer.status < 300) {
        return { status: 'sent', providerId: stringField(parseJson(answer.body), 'name') ?? 'unknown' };
      }
      const error = fcmError(answer.body);
      if (error.code && DEAD_TOKEN_CODES.has(error.code) && answer.status < 500) {
        return {
          status: 'failed',
          reason:
            `FCM answered HTTP ${answer.status} ${error.code}: the push token of customer ${delivery.customerId} ` +
            `is invalid or no longer registered; remove it from their traits (${error.message ?? 'no detail'})`,
        };
      }
      const why = error.message && snippet(`${error.code ?? ''} ${error.message}`);
      return failureForStatus('FCM', answer, clock.now(), why || undefined);
    },
  };
}

/**
 * FCM v1 errors: `{ error: { code, message, status, details: [{ errorCode }] } }`. The detail's
 * `errorCode` (e.g. `UNREGISTERED`) is more precise than `status` (e.g. `NOT_FOUND`).
 */
function fcmError(text: string): { code?: string; message?: string } {
  const error = (parseJson(text) as { error?: unknown } | undefined)?.error;
  const details = (error as { details?: unknown } | undefined)?.details;
  const detailCode = Array.isArray(details)
    ? details.map((detail: unknown) => stringField(detail, 'errorCode')).find(Boolean)
    : undefined;
  return { code: detailCode ?? stringField(error, 'status'), message: stringField(error, 'message') };
}
