import { systemClock, type Clock } from '../clock.js';
import type { ChannelAdapter, DeliveryResult } from './channel-adapter.js';
import { renderedFor } from './deliverable.js';
import { postWithTimeout } from './http-post.js';
import { failureForStatus, retryForNetworkError, type HttpAnswer } from './http-result.js';
import { webhookHeaders, webhookKey } from './standard-webhooks.js';
import { checkWebhookTarget, type LookupAll } from './target-guard.js';

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
  /**
   * When the journey asked for the send (ISO 8601), as Standard Webhooks has it: when the event
   * occurred, the same on every attempt. The attempt's own time is the `webhook-timestamp` header.
   */
  timestamp: string;
  data: Record<string, unknown>;
}

/**
 * The webhook channel: POSTs the rendered payload as JSON to the customer's `webhookUrl`, signed
 * per Standard Webhooks with `webhook-id` = the operation id (the receiver's idempotency key).
 * Refuses, as `failed`, non-http(s) URLs and hosts resolving to loopback, private or link-local
 * addresses (unless `allowPrivateTargets`), and never follows redirects.
 *
 * The connection is pinned to the addresses that passed the check, tried in turn (see
 * postWithTimeout): resolving the name again could lead elsewhere (DNS rebinding).
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
      // The deadline is the whole request's, resolving the host included: a resolver that stalls
      // must not double it (the time a send may hold a worker, and its claim, is counted on it).
      const started = performance.now();
      const check = await checkWebhookTarget(delivery.address.webhookUrl, {
        allowPrivateTargets,
        lookup: options.lookup,
        timeoutMs,
      });
      if (!check.ok) return { status: check.status, reason: check.reason };
      const now = clock.now();
      const envelope: WebhookEnvelope = {
        type: 'chorus.message',
        timestamp: new Date(delivery.requestedAt ?? now).toISOString(),
        data: rendered.payload,
      };
      const body = JSON.stringify(envelope);
      const headers = webhookHeaders(secrets, delivery.opId, Math.floor(now / 1000), body);
      let answer: HttpAnswer;
      try {
        const { url, addresses } = check.target;
        answer = await postWithTimeout(url, {
          headers: { ...headers, 'content-type': 'application/json', 'user-agent': 'Chorus-Webhooks/1' },
          body,
          timeoutMs: Math.max(1, Math.round(timeoutMs - (performance.now() - started))),
          pinned: addresses,
        });
      } catch (error) {
        return retryForNetworkError(`webhook ${check.target.url.origin}`, error, timeoutMs);
      }
      if (answer.status >= 200 && answer.status < 300) {
        return { status: 'sent', providerId: delivery.opId, detail: `HTTP ${answer.status}` };
      }
      return failureForStatus(`webhook ${check.target.url.origin}`, answer, clock.now());
    },
  };
}
