import type { Channel } from '../journey/journey-schema.js';
import type { RenderedMessage } from '../messages/rendered-message.js';
import type { Topic } from '../policy/topic.js';

/** Where a customer is reached, read from their traits at send time. */
export interface Address {
  email?: string;
  phone?: string;
  pushToken?: string;
  webhookUrl?: string;
}

/** One message on its way to one customer on one channel. */
export interface Delivery {
  /** The deterministic operation id: the same send always has the same one. */
  opId: string;
  customerId: string;
  journeyId: string;
  journeyVersion: number;
  message: string;
  /** Split variants joined as `split=variant,…`, or `control` when the customer passed no split. */
  variant: string;
  channel: Channel;
  address: Address;
  rendered: RenderedMessage;
  unsubscribeUrl: string;
  /**
   * The message's topic; absent reads as `marketing`. A `transactional` email (a receipt, a
   * password reset) carries no `List-Unsubscribe` headers: a mail client would show an
   * Unsubscribe button on it that stops marketing, not the receipts, and Gmail and Yahoo ask for
   * one-click unsubscribe on marketing mail only.
   */
  topic?: Topic;
  /**
   * When the journey asked for this send (epoch ms): the same on every attempt, where the time
   * of each attempt is not, and not shared with the send of the same operation id made for an
   * earlier customer under the same id (one erased, who came back), which a receiver would
   * otherwise take for a repeat. Absent for a send made outside a journey (`chorus send-test`).
   */
  requestedAt?: number;
}

/**
 * What a provider said, as data rather than exceptions: the delivery worker alone decides what a
 * retry means (BullMQ backoff with jitter) and when to give up.
 */
export type DeliveryResult =
  | { status: 'sent'; providerId: string; detail?: string }
  | {
      status: 'retry';
      reason: string;
      afterMs?: number;
      /**
       * The request may have reached the provider (it timed out or broke after being sent), so
       * a retry could deliver twice: the worker retries only through an idempotent adapter.
       */
      mayHaveArrived?: boolean;
    }
  | {
      status: 'failed';
      reason: string;
      /**
       * The provider says the customer cannot be reached at this address on this channel (a push
       * token no longer registered, a number that cannot take texts, a mailbox that does not
       * exist): nothing was delivered, and
       * the send is handed to the journey's next channel, as when the customer has no address.
       */
      addressUnusable?: boolean;
      /**
       * With `addressUnusable`: the address will never work again (a mailbox that does not exist,
       * a push token FCM no longer knows), so it is suppressed as a hard bounce and later sends,
       * of every customer using it, stop before the provider. Left out for a refusal that may
       * pass (a number that replied STOP can reply START: see `optedOut`).
       */
      addressGone?: boolean;
      /**
       * With `addressUnusable`: the customer told the provider to send them no more (replied STOP
       * to the sender), so the address is suppressed as an unsubscribe, as the reply itself would
       * have it (POST /v1/sms/inbound/twilio): later marketing stops before the provider, and
       * their START lifts it.
       */
      optedOut?: boolean;
    };

/** A channel's provider. `send` never throws for a provider's answer; it returns it. */
export interface ChannelAdapter {
  readonly channel: Channel;
  /** A short name for logs and the customer's message list, e.g. `smtp`, `outbox`, `twilio`. */
  readonly provider: string;
  /**
   * Whether sending the same delivery again reaches the receiver as the same message (same
   * Message-ID, `webhook-id`, inbox id or outbox file), so the repeat can be recognised. When a
   * run died mid-send and nobody knows whether the provider accepted, the delivery worker sends
   * again only through an idempotent adapter; otherwise it records the outcome as `unknown`.
   */
  readonly idempotent: boolean;
  /**
   * The receiver can tell a repeat only now and then (email: some mailboxes drop a repeated
   * Message-ID, most relays do not). A send this provider may have taken without answering is
   * then sent once more at most, and recorded `unknown` if that copy goes unanswered too; an
   * idempotent adapter without it (webhooks, whose receivers drop a repeated `webhook-id`) is
   * retried until its attempts run out.
   */
  readonly resendOnce?: boolean;
  send(delivery: Delivery): Promise<DeliveryResult>;
  /**
   * Deletes what the adapter itself kept of a customer's messages where an erasure of the
   * customer's Redis keys does not reach (the outbox's files); returns how many it deleted. An
   * adapter that hands its messages to a provider and keeps nothing leaves it out.
   */
  eraseCustomer?(customerId: string): Promise<number>;
  /** Deletes what the adapter kept of one send (see eraseCustomer), whose customer was erased while it ran. */
  eraseSend?(opId: string): Promise<void>;
  close?(): Promise<void>;
}
