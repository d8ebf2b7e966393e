import { systemClock, type Clock } from '../clock.js';
import type { ChannelAdapter, DeliveryResult } from './channel-adapter.js';
import { deliverable } from './deliverable.js';
import { ChannelConfigError } from './errors.js';
import { postWithTimeout } from './http-post.js';
import { e164PhoneNumber } from './phone-number.js';
import {
  failureForStatus,
  httpBase,
  parseJson,
  retryForNetworkError,
  snippet,
  stringField,
} from './http-result.js';

export interface SmsAdapterOptions {
  accountSid: string;
  authToken: string;
  /** The sending number (E.164) or alphanumeric sender id; or give `messagingServiceSid`. */
  from?: string;
  /** A Messaging Service that picks the sender; used instead of `from` when set. */
  messagingServiceSid?: string;
  /** The API origin; default `https://api.twilio.com`. Point it at any Twilio-compatible provider. */
  baseUrl?: string;
  /** Deadline for the whole request; default 10 000 ms. */
  timeoutMs?: number;
  /** For reading `Retry-After` dates; default the system clock. */
  clock?: Clock;
}

/**
 * Twilio error 21611: the `From` sender already holds as many queued messages as it can send in
 * its queue window (hours of its throughput), and refuses more until the queue drains.
 */
const SENDER_QUEUE_FULL = 21611;

/**
 * Twilio errors that say the customer's number cannot take texts: 21211, not a valid number;
 * 21614, not a mobile number; 21635, a landline (21612: see NOT_REACHABLE_FROM_SENDER).
 * The send goes to the journey's next channel.
 */
const NUMBER_UNUSABLE = new Set([21211, 21614, 21635]);

/**
 * Twilio error 21610: the customer replied STOP (or another opt-out keyword) to this sender, which
 * then refuses every message to them until they reply START. As for a number that cannot take
 * texts, the send goes to the journey's next channel; the number is suppressed as an unsubscribe,
 * as the STOP itself would have it had Twilio's inbound webhook told Chorus of it.
 */
const REPLIED_STOP = 21610;

/**
 * Twilio error 21612 is as often the sender's as the number's: the sender (an alphanumeric sender
 * id, or a number without the country's permission) cannot reach that country. Handed on all the
 * same, with the hint, so a setup problem shows in the reasons rather than as dead numbers.
 */
const NOT_REACHABLE_FROM_SENDER = 21612;

/**
 * SMS through a Twilio-compatible Messages API: a form-encoded POST with HTTP basic auth.
 * `sent` carries the provider's message `sid`; a customer without `phone` fails without a request.
 *
 * @example
 * ```ts
 * const sms = createSmsAdapter({ accountSid: env.TWILIO_SID, authToken: env.TWILIO_TOKEN, from: '+15005550006' });
 * await sms.send(delivery); // { status: 'sent', providerId: 'SM…' }
 * ```
 */
export function createSmsAdapter(options: SmsAdapterOptions): ChannelAdapter {
  if (!options.accountSid || !options.authToken) {
    throw new ChannelConfigError(
      options.accountSid ? 'authToken' : 'accountSid',
      'The SMS adapter needs an account SID and an auth token. To fix: set both `accountSid` and `authToken`.',
    );
  }
  if (!options.from && !options.messagingServiceSid) {
    throw new ChannelConfigError(
      'from',
      'The SMS adapter has no sender. To fix: set `from` to a sending number, or `messagingServiceSid`.',
    );
  }
  const base = httpBase(options.baseUrl ?? 'https://api.twilio.com', 'baseUrl');
  const url = `${base}/2010-04-01/Accounts/${encodeURIComponent(options.accountSid)}/Messages.json`;
  const authorization = `Basic ${Buffer.from(`${options.accountSid}:${options.authToken}`).toString('base64')}`;
  const timeoutMs = options.timeoutMs ?? 10_000;
  const clock = options.clock ?? systemClock;

  return {
    channel: 'sms',
    provider: 'twilio',
    idempotent: false,
    async send(delivery): Promise<DeliveryResult> {
      const ready = deliverable(delivery, 'sms', 'phone');
      if (!ready.ok) return ready.result;
      const to = e164PhoneNumber(ready.to);
      if (to === undefined) {
        // Twilio would refuse it (21211) for every message: the journey's next channel, without a request.
        return {
          status: 'failed',
          reason:
            `the phone number of customer ${delivery.customerId}, ${JSON.stringify(ready.to)}, is not in E.164 form: ` +
            'a "+", the country code and the number, such as +14155550123',
          addressUnusable: true,
        };
      }
      const form = new URLSearchParams({ To: to, Body: ready.rendered.body });
      if (options.messagingServiceSid) form.set('MessagingServiceSid', options.messagingServiceSid);
      else if (options.from) form.set('From', options.from);
      let answer;
      try {
        answer = await postWithTimeout(url, {
          headers: {
            authorization,
            'content-type': 'application/x-www-form-urlencoded',
            accept: 'application/json',
          },
          body: form.toString(),
          timeoutMs,
        });
      } catch (error) {
        return retryForNetworkError('Twilio', error, timeoutMs);
      }
      const json = parseJson(answer.body);
      if (answer.status >= 200 && answer.status < 300) {
        return {
          status: 'sent',
          providerId: stringField(json, 'sid') ?? 'unknown',
          detail: stringField(json, 'status'),
        };
      }
      // Twilio errors look like { code: 21211, message: "The 'To' number … is not valid", status: 400 }.
      const message = stringField(json, 'message');
      const code = (json as { code?: unknown } | undefined)?.code;
      const why = message ? snippet(`${typeof code === 'number' ? `${code} ` : ''}${message}`) : undefined;
      // The account's credentials, not this message: it waits for them to be fixed, as every
      // other message would meet the same answer.
      if (answer.status === 401)
        return {
          status: 'retry',
          reason: `Twilio refused the account's credentials (HTTP 401)${why ? `: ${why}` : ''}`,
        };
      if (code === SENDER_QUEUE_FULL) {
        // A 400, but about the sender's backlog rather than this message: it fits once the queue drains.
        return {
          status: 'retry',
          reason: `Twilio answered HTTP ${answer.status}: ${why ?? code}; the sender's queue is full, so it is tried again later`,
        };
      }
      const failure = failureForStatus('Twilio', answer, clock.now(), why);
      if (failure.status !== 'failed' || typeof code !== 'number') return failure;
      if (code === REPLIED_STOP) {
        return {
          ...failure,
          reason: `${failure.reason}; the customer replied STOP to this sender, which takes no text to their number until they reply START`,
          addressUnusable: true,
          optedOut: true,
        };
      }
      if (code === NOT_REACHABLE_FROM_SENDER)
        return {
          ...failure,
          reason: `${failure.reason}; when numbers of one country all meet it, check the sender's geographic permissions and sender id in Twilio`,
          addressUnusable: true,
        };
      return NUMBER_UNUSABLE.has(code) ? { ...failure, addressUnusable: true } : failure;
    },
  };
}
