import { UnrecoverableError } from 'bullmq';
import type { ChannelAdapter, Delivery, DeliveryResult } from '../channels/channel-adapter.js';
import type { Channel } from '../journey/journey-schema.js';
import { customerTimeZone } from '../local-time.js';
import { customerLocale } from '../messages/handlebars-env.js';
import { messageFields, type CoreMessage } from '../messages/message-catalog.js';
import type { RenderedMessage } from '../messages/rendered-message.js';
import { shortenSmsLinks } from '../tracking/short-links.js';
import { trackRendered, untrackedIn } from '../tracking/track-links.js';
import type { DeliveryDependencies } from './delivery-dependencies.js';
import { variantLabel, type DeliveryJobData } from './delivery-job.js';
import { erasedOperation, releaseOperation, renewClaim } from './delivery-ledger.js';
import { RetryLaterError } from './job-signals.js';
import type { OutcomeRecorder } from './outcome-recorder.js';
import { createUnsubscribeToken, unsubscribeUrl } from './unsubscribe-token.js';
import { withRetries } from './with-retries.js';

/**
 * The provider said the customer cannot be reached at this address (see `addressUnusable`): the
 * claim is let go of, and the caller hands the send to the next channel.
 */
export interface AddressUnusable {
  addressUnusable: true;
  /** The address will never work again: it is suppressed (see the adapter result's `addressGone`). */
  addressGone: boolean;
  /** The customer told the provider to stop: suppressed as an unsubscribe (see `optedOut`). */
  optedOut: boolean;
  reason: string;
  provider: string;
}

/** A template threw for this send: the reason, as the customer's message list shows it. */
class RenderingFailed extends Error {}

/** What a channel needs to send a job: its provider, the core message, the customer's address. */
export interface Target {
  adapter: ChannelAdapter;
  core: CoreMessage;
  address: Delivery['address'];
}

/**
 * The last part of a delivery, once the operation is claimed: render the message for the
 * channel (with its unsubscribe link, and tracked links when tracking is on), hand it to the
 * provider, and record what the provider answered. A provider that asks to retry gets the claim
 * released first, unless the message may have arrived: at a provider that cannot recognise a
 * repeat that is recorded `unknown` rather than risk sending twice. An idempotent one (email by
 * its Message-ID) is sent it again once, marked `resent`; if that `repeat` also may have arrived,
 * it is recorded `unknown` too, so a provider that takes messages and never answers in time
 * receives two copies at most.
 */
export function createMessageSender(
  channel: Channel,
  deps: DeliveryDependencies,
  outcomes: OutcomeRecorder,
  recordRetry: { attempts: number; baseMs: number },
  claims: {
    /** How often a run still with its provider dates its claim afresh (a fraction of the stale age). */
    renewEveryMs: number;
    /** False once the worker is closing: a run left behind then no longer vouches for its claim. */
    live: () => boolean;
  },
) {
  const { clock, logger } = deps;
  const redis = deps.store.redis;

  /**
   * Calls the provider, keeping the run's claim fresh meanwhile, so that only a run that died
   * (or whose worker closed) leaves a claim to go stale and be taken over.
   */
  async function sendHoldingClaim(adapter: ChannelAdapter, delivery: Delivery, opKey: string, token: string) {
    const renew = setInterval(() => {
      if (!claims.live()) return clearInterval(renew);
      renewClaim(redis, opKey, token, clock.now()).then(
        // No longer this run's claim (ended, or taken over): nothing left to keep fresh.
        (held) => held || clearInterval(renew),
        (err: unknown) =>
          logger.warn({ err, opId: delivery.opId }, 'claim not renewed; it may be taken over once stale'),
      );
    }, claims.renewEveryMs);
    renew.unref();
    try {
      return await adapter.send(delivery);
    } finally {
      clearInterval(renew);
    }
  }

  /** The message as the provider gets it: rendered, with its unsubscribe link and tracked links. */
  function compose(
    data: DeliveryJobData,
    target: Target & { traits: Record<string, unknown> },
    now: number,
  ): Delivery {
    const { core, address, traits } = target;
    const unsubscribe = unsubscribeUrl(
      deps.unsubscribe.baseUrl,
      createUnsubscribeToken(deps.unsubscribe.secret, {
        customerId: data.customerId,
        topic: 'marketing',
        ...(deps.unsubscribe.ttlDays === undefined
          ? {}
          : { exp: now + deps.unsubscribe.ttlDays * 86_400_000 }),
      }),
    );
    let rendered: RenderedMessage;
    try {
      rendered = deps.renderer.render(data.message, channel, {
        customer: { id: data.customerId },
        profile: traits,
        trigger: data.trigger,
        event: data.event,
        data: data.data,
        journey: { id: data.journeyId, version: data.journeyVersion, state: data.state, stage: data.stage },
        message: messageFields(core),
        variants: data.variants,
        // A trait that names no locale or zone falls back to the default, as waits and quiet hours do.
        locale: customerLocale(traits, deps.defaults.locale),
        timezone: customerTimeZone(traits, deps.defaults.timezone),
        unsubscribeUrl: unsubscribe,
      });
    } catch (error) {
      throw new RenderingFailed(`rendering failed: ${(error as Error).message}`);
    }
    if (deps.tracking) {
      const { opId, customerId, journeyId, message } = data;
      const send = { opId, customerId, journeyId, message, channel, variant: variantLabel(data.variants) };
      const brand = (url: string) => deps.renderer.isBrandLink(data.message, url);
      rendered = trackRendered(rendered, send, deps.tracking, { brand, keep: [unsubscribe] });
    }
    return {
      opId: data.opId,
      customerId: data.customerId,
      journeyId: data.journeyId,
      journeyVersion: data.journeyVersion,
      message: data.message,
      variant: variantLabel(data.variants),
      channel,
      address,
      rendered,
      unsubscribeUrl: unsubscribe,
      topic: core.topic,
      requestedAt: data.at,
    };
  }

  /** Records the send `failed` and ends its job without retries. */
  async function failed(data: DeliveryJobData, reason: string, provider?: string): Promise<never> {
    await outcomes.record(data, 'failed', { reason, ...(provider ? { provider } : {}) }, clock.now());
    throw new UnrecoverableError(reason);
  }

  /** A template that cannot render for this customer fails the send; retrying would render it the same way. */
  async function renderingFailed(
    data: DeliveryJobData,
    reason: string,
    repeat: boolean,
    now: number,
  ): Promise<string> {
    if (repeat) {
      // An earlier copy may have arrived: the send is not known to have failed.
      await outcomes.record(data, 'unknown', { reason: `${reason}; an earlier copy may have arrived` }, now);
      return 'unknown';
    }
    return failed(data, reason);
  }

  return async function send(
    data: DeliveryJobData,
    target: Target & { traits: Record<string, unknown> },
    claimToken: string,
    /** An earlier run's send may have arrived (it died mid-send, or its provider went silent). */
    repeat: boolean,
    now: number,
  ): Promise<string | AddressUnusable> {
    const { adapter } = target;
    const opKey = outcomes.keys(data).op;
    let delivery: Delivery;
    try {
      delivery = compose(data, target, now);
      if (deps.tracking) {
        // Stored before the provider is called: a text that left holds only links that resolve.
        const { prefix } = deps.store;
        const rendered = delivery.rendered;
        delivery = {
          ...delivery,
          rendered: await shortenSmsLinks(redis, prefix, data.customerId, rendered, deps.tracking, now),
        };
      }
    } catch (error) {
      if (error instanceof RenderingFailed) return renderingFailed(data, error.message, repeat, now);
      // Thrown before the provider was called (the unsubscribe token, link tracking, storing short
      // links): nothing can have arrived, so the claim is let go of and the retry sends at once. Kept, the claim would
      // make the retry wait for it to go stale and then end the send `unknown` (or, through an
      // idempotent adapter, send it marked as a repeat) for a message that never left.
      await withRetries(() => releaseOperation(redis, opKey, claimToken, repeat), recordRetry);
      throw error;
    }

    const result: DeliveryResult = await sendHoldingClaim(adapter, delivery, opKey, claimToken);
    // Counted with the send, so the report rates opens and clicks over the sends that could show
    // them; kept on an `unknown` entry too, counted when a report, open or click shows it went.
    const untracked = untrackedIn(delivery.rendered, deps.tracking?.baseUrl);
    const unseen = untracked.length > 0 ? { untracked } : {};
    if (result.status === 'sent') {
      await outcomes.record(
        data,
        'sent',
        {
          provider: adapter.provider,
          providerId: result.providerId,
          ...(repeat ? { resent: true } : {}),
          ...unseen,
        },
        clock.now(),
      );
      // Its customer was erased while the adapter kept a copy where the erasure looks for one (the
      // outbox), maybe after it looked: the copy goes now.
      if (adapter.eraseSend && (await erasedOperation(redis, opKey))) await adapter.eraseSend(data.opId);
      logger.info(
        {
          customerId: data.customerId,
          message: data.message,
          channel,
          provider: adapter.provider,
          opId: data.opId,
        },
        'message sent',
      );
      return 'sent';
    }
    if (
      result.status === 'retry' &&
      result.mayHaveArrived &&
      (!adapter.idempotent || (repeat && adapter.resendOnce))
    ) {
      const reason = adapter.idempotent
        ? `${result.reason}; this was already a second copy of a send that may have arrived, so it was not sent a third time`
        : `${result.reason}; the request may have reached ${adapter.provider}, which cannot recognise a repeated send, so it was not sent again`;
      await outcomes.record(data, 'unknown', { reason, provider: adapter.provider, ...unseen }, clock.now());
      return 'unknown';
    }
    if (result.status === 'retry') {
      // Nothing went out, or the receiver can tell a repeat: let go of the claim so the next
      // attempt claims it afresh (marked when it may have arrived, see releaseOperation). A repeat
      // stays marked though this copy was deferred: the copy of the run that died may be out, and
      // unmarked, the next attempt would be taken for a first one (a refusal then recorded
      // `failed`, an accepted copy not `resent`, a silent one followed by a third).
      const maybe = result.mayHaveArrived === true || repeat;
      await withRetries(() => releaseOperation(redis, opKey, claimToken, maybe), recordRetry);
      throw new RetryLaterError(result.reason, result.afterMs);
    }
    if (repeat) {
      // An earlier copy may have arrived: this refusal does not make the send a failure.
      const reason = `${result.reason}; an earlier copy may have arrived`;
      await outcomes.record(data, 'unknown', { reason, provider: adapter.provider, ...unseen }, clock.now());
      return 'unknown';
    }
    if (result.addressUnusable) {
      // Nothing was delivered: the claim is let go of, and the worker hands the send on.
      await withRetries(() => releaseOperation(redis, opKey, claimToken, false), recordRetry);
      return {
        addressUnusable: true,
        addressGone: result.addressGone === true,
        optedOut: result.optedOut === true,
        reason: result.reason,
        provider: adapter.provider,
      };
    }
    return failed(data, result.reason, adapter.provider);
  };
}
