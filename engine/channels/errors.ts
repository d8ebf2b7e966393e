import { ChorusError } from '../errors.js';

/**
 * A channel adapter factory was given options it cannot work with: a missing sender, a malformed
 * webhook secret, a base URL that is not http(s). Thrown when the adapter is created, never by
 * `send`, so a misconfigured process fails at start rather than on every message.
 *
 * @example
 * ```ts
 * try {
 *   createSmsAdapter({ accountSid, authToken });
 * } catch (error) {
 *   if (error instanceof ChannelConfigError) console.error(error.option, error.message);
 * }
 * ```
 */
export class ChannelConfigError extends ChorusError {
  static readonly code = 'CHORUS_CHANNEL_CONFIG_INVALID';
  /** The option at fault, e.g. `from` or `secret`. */
  readonly option: string;

  /** @param message shaped "what happened. To fix: ...". */
  constructor(option: string, message: string, options?: { cause?: unknown }) {
    super(ChannelConfigError.code, message, options);
    this.option = option;
  }
}

/** Why `verifyWebhook()` rejected a request. */
export type WebhookRejection =
  | 'missing-header'
  | 'invalid-timestamp'
  | 'timestamp-too-old'
  | 'timestamp-too-new'
  | 'no-matching-signature';

/**
 * A request failed Standard Webhooks verification: a header is missing, its timestamp is outside
 * the tolerance, or none of its signatures matches the secret. Answer it with 401 and do not act
 * on the body.
 *
 * @example
 * ```ts
 * try {
 *   verifyWebhook(secret, request.headers, rawBody);
 * } catch (error) {
 *   if (error instanceof WebhookVerificationError) return reply.code(401).send({ reason: error.reason });
 *   throw error;
 * }
 * ```
 */
export class WebhookVerificationError extends ChorusError {
  static readonly code = 'CHORUS_WEBHOOK_UNVERIFIED';
  readonly reason: WebhookRejection;

  /** @param message shaped "what happened. To fix: ...". */
  constructor(reason: WebhookRejection, message: string) {
    super(WebhookVerificationError.code, message);
    this.reason = reason;
  }
}
