import http, { type IncomingMessage } from 'node:http';
import https from 'node:https';
import type { LookupFunction } from 'node:net';
import { systemClock, type Clock } from '../clock.js';
import type { ChannelAdapter, DeliveryResult } from './channel-adapter.js';
import { renderedFor } from './deliverable.js';
import {
  describeError,
  failureForStatus,
  MAX_BODY_BYTES,
  retryForNetworkError,
  type HttpAnswer,
} from './http-result.js';
import { webhookHeaders, webhookKey, type WebhookHeaders } from './standard-webhooks.js';
import { checkWebhookTarget, type CheckedTarget, type LookupAll } from './target-guard.js';

export interface WebhookAdapterOptions {
  /**
   * The signing secret, `whsec_<base64>`; during a rotation pass `[old, new]` and every request
   * carries both signatures, so receivers can switch keys at their own pace.
   */
  secret: string | readonly string[];
  /** Let webhooks reach loopback, private and link-local addresses (local development, tests). Default false. */
  allowPrivateTargets?: boolean;
  /** Deadline for the whole request; default 10 000 ms. */
  timeoutMs?: number;
  /** Stamps `webhook-timestamp` and reads `Retry-After` dates; default the system clock. */
  clock?: Clock;
  /** Host name resolution; default `dns.promises.lookup` with `all: true`. */
  lookup?: LookupAll;
}

/** The JSON body of every webhook: the rendered payload wrapped per Standard Webhooks. */
export interface WebhookEnvelope {
  type: 'chorus.message';
  /** ISO 8601. */
  timestamp: string;
  data: Record<string, unknown>;
}

/**
 * The webhook channel: POSTs the rendered payload as JSON to the customer's `webhookUrl`, signed
 * per Standard Webhooks with `webhook-id` = the operation id (the receiver's idempotency key).
 * Refuses, as `failed`, non-http(s) URLs and hosts resolving to loopback, private or link-local
 * addresses (unless `allowPrivateTargets`), and never follows redirects.
 *
 * Requests go through `node:http(s)` rather than `fetch` so the connection is pinned to the
 * address that passed the check; `fetch` would resolve the name again (DNS rebinding).
 *
 * @example
 * ```ts
 * const webhook = createWebhookAdapter({ secret: env.WEBHOOK_SECRET });
 * await webhook.send(delivery); // { status: 'sent', providerId: 's-bob-…' }
 * ```
 */
export function createWebhookAdapter(options: WebhookAdapterOptions): ChannelAdapter {
  const secrets = typeof options.secret === 'string' ? [options.secret] : [...options.secret];
  for (const secret of secrets) webhookKey(secret); // a malformed secret fails here, not on every send
  const timeoutMs = options.timeoutMs ?? 10_000;
  const clock = options.clock ?? systemClock;
  const allowPrivateTargets = options.allowPrivateTargets ?? false;

  return {
    channel: 'webhook',
    provider: 'webhook',
    idempotent: true,
    async send(delivery): Promise<DeliveryResult> {
      const checked = renderedFor(delivery, 'webhook');
      if (!checked.ok) return checked.result;
      const { rendered } = checked;
      const check = await checkWebhookTarget(delivery.address.webhookUrl, {
        allowPrivateTargets,
        lookup: options.lookup,
        timeoutMs,
      });
      if (!check.ok) return { status: check.status, reason: check.reason };
      const now = clock.now();
      const envelope: WebhookEnvelope = {
        type: 'chorus.message',
        timestamp: new Date(now).toISOString(),
        data: rendered.payload,
      };
      const body = JSON.stringify(envelope);
      const headers = webhookHeaders(secrets, delivery.opId, Math.floor(now / 1000), body);
      let answer: HttpAnswer;
      try {
        answer = await post(check.target, headers, body, timeoutMs);
      } catch (error) {
        const receiver = `webhook ${check.target.url.origin}`;
        if (!(error instanceof NotConnectedError)) return retryForNetworkError(receiver, error, timeoutMs);
        // Nothing was written: a plain retry, which may fail for good once attempts run out.
        const cause = error.cause;
        const timedOut =
          cause instanceof Error && (cause.name === 'AbortError' || cause.name === 'TimeoutError');
        const why = timedOut ? `no connection within ${timeoutMs} ms` : describeError(cause);
        return { status: 'retry', reason: `${receiver} could not be reached: ${why}` };
      }
      if (answer.status >= 200 && answer.status < 300) {
        return { status: 'sent', providerId: delivery.opId, detail: `HTTP ${answer.status}` };
      }
      return failureForStatus(`webhook ${check.target.url.origin}`, answer, clock.now());
    },
  };
}

/**
 * The request failed before its connection was ready (TCP connected and, for https, the TLS
 * handshake done): not a byte of it was written, so the receiver cannot have it. The cause is
 * the error met.
 */
class NotConnectedError extends Error {}

/** POSTs to the pinned address, with the URL's host name kept for `Host` and TLS (SNI, certificate). */
function post(
  target: CheckedTarget,
  headers: WebhookHeaders,
  body: string,
  timeoutMs: number,
): Promise<HttpAnswer> {
  const pinned: LookupFunction = (_hostname, lookupOptions, callback) => {
    if (lookupOptions.all) callback(null, [{ address: target.address, family: target.family }]);
    else callback(null, target.address, target.family);
  };
  const client = target.url.protocol === 'https:' ? https : http;
  return new Promise((resolve, reject) => {
    // Once the status line is in, the request's own errors (the deadline's abort, a dropped
    // connection) only cut the body short: readCapped settles with what came.
    let answered = false;
    // Until the connection is ready the request is only queued on it: an error then (refused, a
    // stalled TLS handshake, a certificate refused) means it never left.
    let ready = false;
    const request = client.request(
      target.url,
      {
        method: 'POST',
        lookup: pinned,
        signal: AbortSignal.timeout(timeoutMs),
        headers: {
          ...headers,
          'content-type': 'application/json',
          'content-length': String(Buffer.byteLength(body)),
          'user-agent': 'Chorus-Webhooks/1',
        },
      },
      (response) => {
        answered = true;
        void readCapped(response).then((text) =>
          resolve({
            status: response.statusCode ?? 0,
            header: (name) => {
              const value = response.headers[name.toLowerCase()];
              return Array.isArray(value) ? value.join(', ') : value;
            },
            body: text,
          }),
        );
      },
    );
    request.on('socket', (socket) => {
      if (request.reusedSocket) ready = true;
      else socket.once(target.url.protocol === 'https:' ? 'secureConnect' : 'connect', () => (ready = true));
    });
    request.on('error', (error) => {
      if (!answered) reject(ready ? error : new NotConnectedError(error.message, { cause: error }));
    });
    request.end(body);
  });
}

/**
 * The body, cut at MAX_BODY_BYTES. The status line is the receiver's answer: a body that then
 * stalls past the deadline or breaks off is kept as far as it came, so a 2xx is not taken for
 * "no answer" and sent again.
 */
function readCapped(response: IncomingMessage): Promise<string> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const sofar = () => Buffer.concat(chunks).subarray(0, MAX_BODY_BYTES).toString('utf8');
    response.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      size += chunk.length;
      if (size >= MAX_BODY_BYTES) {
        response.destroy();
        resolve(sofar());
      }
    });
    response.on('end', () => resolve(sofar()));
    // The deadline's abort, or a dropped connection: the first settles, later calls are no-ops.
    response.on('error', () => resolve(sofar()));
    response.on('close', () => resolve(sofar()));
  });
}
