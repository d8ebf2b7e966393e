import {
  DelayedError,
  MetricsTime,
  UnrecoverableError,
  Worker,
  type ConnectionOptions,
  type Job,
  type Queue,
} from 'bullmq';
import type { ChannelAdapter, Delivery, DeliveryResult } from '../channels/channel-adapter.js';
import type { Clock } from '../clock.js';
import type { Channel } from '../journey/journey-schema.js';
import type { Logger } from '../logger.js';
import { messageFields, type CoreMessage } from '../messages/message-catalog.js';
import type { RenderContext, RenderedMessage } from '../messages/rendered-message.js';
import { queuePrefix } from '../runtime/queues.js';
import type { CustomerStore } from '../store/customer-store.js';
import { resolveAddress } from './address.js';
import { retryDelay } from './backoff.js';
import { deliveryQueueName, variantLabel, type DeliveryJobData } from './delivery-job.js';
import { claimOperation, endOperation, releaseOperation } from './delivery-ledger.js';
import type { DeliveryPolicy } from './delivery-policy.js';
import { createUnsubscribeToken, unsubscribeUrl } from './unsubscribe-token.js';

/** What delivery needs from the template layer. */
export interface Renderer {
  supports(messageId: string, channel: Channel): boolean;
  render(messageId: string, channel: Channel, context: RenderContext): RenderedMessage;
}

export interface DeliveryDependencies {
  store: CustomerStore;
  renderer: Renderer;
  messages: { get(id: string): (CoreMessage & { webhook?: { url: string } }) | undefined };
  adapters: Partial<Record<Channel, ChannelAdapter>>;
  queues: Record<Channel, Queue>;
  policy: DeliveryPolicy;
  clock: Clock;
  logger: Logger;
  unsubscribe: { baseUrl: string; secret: string; ttlDays?: number };
  defaults: { locale: string; timezone: string };
}

export interface DeliveryWorkerOptions {
  connection: ConnectionOptions;
  prefix: string;
  concurrency?: number;
  /** BullMQ rate limit for this channel's queue, e.g. `{ max: 50, duration: 1000 }`. */
  limiter?: { max: number; duration: number };
  retry?: { baseMs: number; maxMs: number };
  /** A claim older than this, from a job that died mid-send, may be taken over. */
  claimStaleMs?: number;
  /** BullMQ lock duration and stalled-check interval (LOCK_DURATION_MS). */
  lockMs?: number;
}

/** A provider asked to try again later; the worker's backoff strategy reads `afterMs`. */
class RetryLaterError extends Error {
  constructor(
    reason: string,
    readonly afterMs: number | undefined,
  ) {
    super(reason);
  }
}

const LEDGER_TTL_MS = 7 * 86_400_000;

/** A message list entry: what the customer was sent (or why not), shown on the customer. */
function entryFor(job: DeliveryJobData, channel: Channel, status: string, extra: Record<string, unknown>) {
  return {
    opId: job.opId,
    journeyId: job.journeyId,
    journeyVersion: job.journeyVersion,
    instanceId: job.instanceId,
    state: job.state,
    stage: job.stage,
    message: job.message,
    channel,
    variant: variantLabel(job.variants),
    status,
    ...extra,
  };
}

/**
 * The worker of one channel's queue. For each send: read the customer's traits now, resolve the
 * address (or fall back to the next preferred channel), ask the policy hook, claim the
 * operation, render, call the provider, and record the outcome once per operation id.
 */
export function createDeliveryWorker(
  channel: Channel,
  deps: DeliveryDependencies,
  options: DeliveryWorkerOptions,
): Worker {
  const { store, clock, logger } = deps;
  const adapter = deps.adapters[channel];
  const retry = options.retry ?? { baseMs: 1_000, maxMs: 300_000 };
  const claimStaleMs = options.claimStaleMs ?? 120_000;

  async function end(
    job: DeliveryJobData,
    status: 'sent' | 'failed' | 'skipped',
    extra: Record<string, unknown>,
    at: number,
  ) {
    const keys = store.keys(job.customerId);
    const entry = entryFor(job, channel, status, { ...extra, at });
    await endOperation.run(
      store.redis,
      [keys.op(job.opId), keys.messages],
      [status, JSON.stringify(entry), 100, LEDGER_TTL_MS],
    );
  }

  /** Hands the send to the next preferred channel, or records why nothing could be sent. */
  async function fallBack(job: DeliveryJobData, reason: string, now: number): Promise<string> {
    const keys = store.keys(job.customerId);
    const note = entryFor(job, channel, 'rerouted', { reason, at: now });
    const next = job.channels
      .slice(job.channels.indexOf(channel) + 1)
      .find((c) => deps.adapters[c] !== undefined);
    if (!next) {
      await end(
        job,
        'skipped',
        { reason: `${reason}; no further channel in [${job.channels.join(', ')}]` },
        now,
      );
      return 'skipped';
    }
    await store.redis.lpush(keys.messages, JSON.stringify({ ...note, to: next }));
    await deps.queues[next].add(job.message, { ...job, channel: next }, { jobId: job.opId });
    return `rerouted to ${next}`;
  }

  async function process(job: Job<DeliveryJobData>, token?: string): Promise<string> {
    const data = job.data;
    const now = clock.now();
    const keys = store.keys(data.customerId);
    const traits = await store.profile(data.customerId);
    const core = deps.messages.get(data.message);
    if (!adapter) return fallBack(data, `no ${channel} provider is configured`, now);
    if (!core || !deps.renderer.supports(data.message, channel))
      return fallBack(data, `message "${data.message}" has no ${channel} template`, now);
    const address = resolveAddress(channel, traits, core.webhook?.url);
    if (!address) return fallBack(data, `the customer has no ${channel} address`, now);

    const decision = await deps.policy.check({ job: data, channel, traits, now });
    if (decision.action === 'skip') {
      await end(data, 'skipped', { reason: decision.reason }, now);
      return 'skipped';
    }
    if (decision.action === 'reroute') return fallBack(data, decision.reason, now);
    if (decision.action === 'delay') {
      await job.moveToDelayed(decision.untilMs, token);
      throw new DelayedError(decision.reason);
    }

    // BullMQ's lock token is new for every run of the job, so a claim left by a run that died
    // belongs to someone else: this run waits for it to go stale instead of sending again at once.
    const claimToken = token ?? `${job.id!}:${job.attemptsStarted}`;
    const claim = (await claimOperation.run(
      store.redis,
      [keys.op(data.opId)],
      [claimToken, now, claimStaleMs],
    )) as string;
    if (claim !== 'claimed') {
      if (claim === 'busy')
        throw new RetryLaterError(`operation ${data.opId} is being sent by another job`, claimStaleMs);
      return `already ${claim}`;
    }

    const unsubscribe = unsubscribeUrl(
      deps.unsubscribe.baseUrl,
      createUnsubscribeToken(deps.unsubscribe.secret, {
        customerId: data.customerId,
        topic: 'marketing',
        exp: now + (deps.unsubscribe.ttlDays ?? 60) * 86_400_000,
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
        locale: typeof traits.locale === 'string' ? traits.locale : deps.defaults.locale,
        timezone: typeof traits.timezone === 'string' ? traits.timezone : deps.defaults.timezone,
        unsubscribeUrl: unsubscribe,
      });
    } catch (error) {
      const reason = `rendering failed: ${(error as Error).message}`;
      await end(data, 'failed', { reason }, now);
      throw new UnrecoverableError(reason);
    }

    const delivery: Delivery = {
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
    };
    const result: DeliveryResult = await adapter.send(delivery);
    if (result.status === 'sent') {
      await end(data, 'sent', { provider: adapter.provider, providerId: result.providerId }, clock.now());
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
    if (result.status === 'retry') {
      await releaseOperation.run(store.redis, [keys.op(data.opId)], [claimToken]);
      throw new RetryLaterError(result.reason, result.afterMs);
    }
    await end(data, 'failed', { reason: result.reason, provider: adapter.provider }, clock.now());
    throw new UnrecoverableError(result.reason);
  }

  const worker = new Worker<DeliveryJobData>(deliveryQueueName(channel), process, {
    connection: options.connection,
    prefix: queuePrefix(options.prefix),
    concurrency: options.concurrency ?? 20,
    lockDuration: options.lockMs ?? 30_000,
    stalledInterval: options.lockMs ?? 30_000,
    // Completed/failed counts per minute, kept in Redis for /metrics and the dashboard.
    metrics: { maxDataPoints: MetricsTime.ONE_WEEK },
    ...(options.limiter ? { limiter: options.limiter } : {}),
    settings: {
      backoffStrategy: (attemptsMade: number, _type?: string, err?: Error) =>
        retryDelay(attemptsMade, {
          ...retry,
          ...(err instanceof RetryLaterError && err.afterMs ? { floorMs: err.afterMs } : {}),
        }),
    },
  });
  worker.on('failed', (job, err) => {
    if (!job || err instanceof UnrecoverableError || err instanceof DelayedError) return;
    const attempts = job.opts.attempts ?? 1;
    if (job.attemptsMade < attempts) return;
    // Out of retries: the customer's message list says so, with the last reason.
    void end(
      job.data,
      'failed',
      { reason: `gave up after ${attempts} attempts: ${err.message}` },
      clock.now(),
    ).catch((e: unknown) => logger.error({ err: e }, 'could not record a failed delivery'));
  });
  worker.on('error', (err) => logger.error({ err, channel }, 'delivery worker error'));
  return worker;
}
