import { systemClock, type Clock } from '../clock.js';
import type { z } from 'zod';
import type { ChannelAdapter, DeliveryResult } from './channel-adapter.js';
import { deliverable } from './deliverable.js';
import { fcmAuthorization } from './fcm-auth.js';
import { postWithTimeout } from './http-post.js';
import { PUSH_PAYLOAD_LIMIT, pushPayload, pushPayloadBytes } from '../messages/push-payload.js';
import type { RenderedFor } from '../messages/rendered-message.js';
import {
  failureForStatus,
  httpBase,
  parseJson,
  retryForNetworkError,
  snippet,
  stringField,
  type HttpAnswer,
  type NotSent,
} from './http-result.js';
import type { ServiceAccount } from './service-account.js';

export interface PushAdapterOptions {
  /** The Firebase project id; default the service account's `project_id`. */
  projectId?: string;
  /**
   * The key of a service account allowed to send with FCM (its JSON key file, parsed): the
   * adapter signs an assertion, exchanges it for an access token, keeps the token until five
   * minutes before it expires, and fetches a new one when FCM refuses it. Give this or `accessToken`.
   */
  serviceAccount?: z.input<typeof ServiceAccount>;
  /**
   * Instead of a service account: an OAuth 2 access token for the FCM scope, or a function
   * returning a current one. A fixed token lasts an hour (`gcloud auth print-access-token`):
   * for a quick trial only; once it expires every push is refused until it is replaced. A
   * function is called for every send (so it should cache) and again when FCM refuses its token.
   */
  accessToken?: string | (() => Promise<string>);
  /** The API origin; default `https://fcm.googleapis.com`. */
  baseUrl?: string;
  /** Deadline for the whole request, and for a token request; default 10 000 ms. */
  timeoutMs?: number;
  /** Times access tokens and reads `Retry-After` dates; default the system clock. */
  clock?: Clock;
}

/**
 * FCM's answer for a token the app no longer holds: it will never work again, for any project.
 * SENDER_ID_MISMATCH is not as final: every token meets it when FCM_PROJECT_ID names the wrong
 * project, so suppressing on it would lose every customer's token to one setup mistake.
 */
const UNREGISTERED = 'UNREGISTERED';
/** FCM error codes meaning the device token cannot be sent to from this project. */
const DEAD_TOKEN_CODES = new Set([UNREGISTERED, 'SENDER_ID_MISMATCH']);

/**
 * FCM answers 401 THIRD_PARTY_AUTH_ERROR when it could not authenticate with APNs or a web push
 * service: the APNs key or certificate, or the web push key, uploaded to the Firebase project is
 * invalid or missing. The access token is good; getting another would not help.
 */
const THIRD_PARTY_AUTH_ERROR = 'THIRD_PARTY_AUTH_ERROR';

/**
 * INVALID_ARGUMENT says some part of the request is wrong: the token, or the message (too big, a
 * field FCM does not know). Only when FCM names the token is it the token's fault; blaming it for
 * a bad payload would have good tokens removed from every customer the message went to.
 */
function blamesToken(error: FcmErrorInfo): boolean {
  return (
    error.code === 'INVALID_ARGUMENT' &&
    (error.fields.includes('message.token') || /registration token/i.test(error.message ?? ''))
  );
}

/**
 * Push notifications through the FCM HTTP v1 API (`projects/<id>/messages:send`): the title and
 * body, the CTA URL as `data.url` for the app, and, when it is https, as the link a browser opens
 * on a click (`webpush.fcm_options.link`), and the message's `push.ttl` and `push.collapseKey`
 * for Android, APNs and web push. A push over FCM's 4096 bytes (PUSH_PAYLOAD_LIMIT) fails without a
 * request, with a reason that says why, where FCM would refuse it as too big. `sent` carries
 * FCM's message `name`. An unregistered device token fails as gone for good (delivery suppresses
 * it); a malformed one, or one of another project, fails with a reason saying so. When FCM
 * answers 401 (the access token expired or was revoked), the adapter gets a new token and tries
 * once more.
 *
 * @example
 * ```ts
 * const serviceAccount = JSON.parse(await readFile('fcm-service-account.json', 'utf8'));
 * const push = createPushAdapter({ serviceAccount });
 * await push.send(delivery); // { status: 'sent', providerId: 'projects/acme-app/messages/0:17…' }
 * ```
 */
export function createPushAdapter(options: PushAdapterOptions): ChannelAdapter {
  const timeoutMs = options.timeoutMs ?? 10_000;
  const clock = options.clock ?? systemClock;
  const { tokens, projectId } = fcmAuthorization(options, clock, timeoutMs);
  const base = httpBase(options.baseUrl ?? 'https://fcm.googleapis.com', 'baseUrl');
  const url = `${base}/v1/projects/${encodeURIComponent(projectId)}/messages:send`;

  /** Posts with a current token; when FCM refuses it (401), gets another once and posts again. */
  async function postAuthorized(body: string): Promise<HttpAnswer | NotSent> {
    const token = await tokens.get();
    if (!token.ok) return { status: 'retry', reason: `could not get an FCM access token: ${token.reason}` };
    const answer = await post(url, token.token, body, timeoutMs);
    if (answer.status !== 401 || fcmError(answer.body).code === THIRD_PARTY_AUTH_ERROR) return answer;
    const renewed = await tokens.renew(token.token);
    if (!renewed) {
      return {
        status: 'retry',
        reason:
          'FCM answered HTTP 401: the access token expired or was revoked, and there is no other to try. ' +
          'A fixed access token lasts an hour: configure a service account instead',
      };
    }
    if (!renewed.ok) {
      return {
        status: 'retry',
        reason: `FCM refused the access token (HTTP 401) and no new one could be had: ${renewed.reason}`,
      };
    }
    return post(url, renewed.token, body, timeoutMs);
  }

  return {
    channel: 'push',
    provider: 'fcm',
    idempotent: false,
    async send(delivery): Promise<DeliveryResult> {
      const ready = deliverable(delivery, 'push', 'pushToken');
      if (!ready.ok) return ready.result;
      const { rendered } = ready;
      const payload = pushPayload(rendered, delivery.opId);
      const bytes = pushPayloadBytes(rendered, delivery.opId);
      if (bytes > PUSH_PAYLOAD_LIMIT) {
        // FCM would refuse it (400 INVALID_ARGUMENT) on every attempt: it fails here, naming what grew.
        return {
          status: 'failed',
          reason:
            `the push of message "${delivery.message}" is ${bytes} bytes as rendered (title ` +
            `${[...rendered.title].length} characters, body ${[...rendered.body].length}, link ` +
            `${rendered.url.length}), over the ${PUSH_PAYLOAD_LIMIT} FCM takes, so it was not sent. To fix: shorten ` +
            'its push templates, or what they show of the traits or event',
        };
      }
      const body = JSON.stringify({
        message: {
          token: ready.to,
          ...payload,
          ...platformOptions(rendered, clock.now()),
        },
      });
      let answer: HttpAnswer;
      try {
        const outcome = await postAuthorized(body);
        if ('reason' in outcome) return outcome;
        answer = outcome;
      } catch (error) {
        return retryForNetworkError('FCM', error, timeoutMs);
      }
      if (answer.status >= 200 && answer.status < 300) {
        return { status: 'sent', providerId: stringField(parseJson(answer.body), 'name') ?? 'unknown' };
      }
      const error = fcmError(answer.body);
      if (answer.status === 401 && error.code === THIRD_PARTY_AUTH_ERROR) {
        // Every message to an iOS or web device meets it until the key is replaced: it waits.
        return {
          status: 'retry',
          reason:
            `FCM answered HTTP 401 ${THIRD_PARTY_AUTH_ERROR}: FCM could not authenticate with APNs or the web ` +
            'push service, so the APNs key or certificate, or the web push key, of the Firebase project is ' +
            'invalid or missing; replace it in the Firebase console (Project settings, Cloud Messaging) ' +
            `(${error.message ?? 'no detail'})`,
        };
      }
      if (answer.status === 401) {
        // Refused twice, the second time with a token minted a moment ago: the credentials
        // themselves are at fault. Not this message's fault, so it waits for them to be fixed.
        return {
          status: 'retry',
          reason: `FCM refused a fresh access token (HTTP 401): ${error.message ?? 'no detail'}`,
        };
      }
      if (answer.status === 403 && error.code === 'PERMISSION_DENIED') {
        // The service account lacks the right to send for the project, or the project has the
        // FCM API disabled: every push meets it, so it waits for the setup to be fixed.
        return {
          status: 'retry',
          reason:
            'FCM answered HTTP 403 PERMISSION_DENIED: the service account may not send for this project, or the ' +
            'Firebase Cloud Messaging API is disabled in it; grant the role or enable the API ' +
            `(${error.message ?? 'no detail'})`,
        };
      }
      if (error.code === UNREGISTERED && answer.status < 500) {
        return {
          status: 'failed',
          reason:
            `FCM answered HTTP ${answer.status} ${error.code}: the push token of customer ${delivery.customerId} ` +
            `is no longer registered (the app was uninstalled, or the token replaced), so it is suppressed ` +
            `(${error.message ?? 'no detail'})`,
          addressUnusable: true,
          addressGone: true,
        };
      }
      if (((error.code && DEAD_TOKEN_CODES.has(error.code)) || blamesToken(error)) && answer.status < 500) {
        return {
          status: 'failed',
          reason:
            `FCM answered HTTP ${answer.status} ${error.code}: the push token of customer ${delivery.customerId} ` +
            `is invalid or of another Firebase project; replace it in their traits (${error.message ?? 'no detail'})`,
          addressUnusable: true,
        };
      }
      const why = error.message && snippet(`${error.code ?? ''} ${error.message}`);
      return failureForStatus('FCM', answer, clock.now(), why || undefined);
    },
  };
}

/**
 * The message's time to live and collapse key, for each platform FCM sends to: Android takes a
 * duration, APNs a date (seconds since the epoch, `0` for now or never) and web push seconds.
 * Without them FCM keeps a message four weeks and every send stands on its own. A browser opens
 * the https CTA on a click (`webpush.fcm_options.link`; an app reads `data.url`): FCM takes https
 * only there and refuses the whole message for any other link.
 */
function platformOptions(rendered: RenderedFor<'push'>, now: number) {
  const { ttlMs, collapseKey } = rendered;
  const seconds = ttlMs === undefined ? undefined : Math.floor(ttlMs / 1000);
  const android = {
    ...(seconds === undefined ? {} : { ttl: `${seconds}s` }),
    ...(collapseKey === undefined ? {} : { collapse_key: collapseKey }),
  };
  const apnsHeaders = {
    ...(seconds === undefined
      ? {}
      : { 'apns-expiration': String(seconds === 0 ? 0 : Math.floor(now / 1000) + seconds) }),
    ...(collapseKey === undefined ? {} : { 'apns-collapse-id': collapseKey }),
  };
  const webpush = {
    ...(seconds === undefined ? {} : { headers: { TTL: String(seconds) } }),
    ...(isHttps(rendered.url) ? { fcm_options: { link: rendered.url } } : {}),
  };
  return {
    ...(Object.keys(android).length === 0 ? {} : { android }),
    ...(Object.keys(apnsHeaders).length === 0 ? {} : { apns: { headers: apnsHeaders } }),
    ...(Object.keys(webpush).length === 0 ? {} : { webpush }),
  };
}

function isHttps(url: string): boolean {
  return URL.canParse(url) && new URL(url).protocol === 'https:';
}

function post(url: string, accessToken: string, body: string, timeoutMs: number): Promise<HttpAnswer> {
  return postWithTimeout(url, {
    headers: { authorization: `Bearer ${accessToken}`, 'content-type': 'application/json; charset=utf-8' },
    body,
    timeoutMs,
  });
}

interface FcmErrorInfo {
  code?: string | undefined;
  message?: string | undefined;
  /** The request fields a `google.rpc.BadRequest` detail names, e.g. `message.token`. */
  fields: string[];
}

/**
 * FCM v1 errors: `{ error: { code, message, status, details: [{ errorCode }, { fieldViolations }] } }`.
 * The detail's `errorCode` (e.g. `UNREGISTERED`) is more precise than `status` (e.g. `NOT_FOUND`).
 */
function fcmError(text: string): FcmErrorInfo {
  const error = (parseJson(text) as { error?: unknown } | undefined)?.error;
  const details = (error as { details?: unknown } | undefined)?.details;
  const list: unknown[] = Array.isArray(details) ? details : [];
  const detailCode = list.map((detail) => stringField(detail, 'errorCode')).find(Boolean);
  const fields = list.flatMap((detail) => {
    const violations = (detail as { fieldViolations?: unknown } | null)?.fieldViolations;
    return Array.isArray(violations) ? violations.flatMap((v: unknown) => stringField(v, 'field') ?? []) : [];
  });
  return {
    code: detailCode ?? stringField(error, 'status'),
    message: stringField(error, 'message'),
    fields,
  };
}
