import {
  DelayedError,
  MetricsTime,
  UnrecoverableError,
  Worker,
  type ConnectionOptions,
  type Job,
  type MinimalJob,
} from 'bullmq';
import type { Channel } from '../journey/journey-schema.js';
import { countDecision } from '../policy/policy-counts.js';
import { SuppressionList, suppressibleAddress, suppressionListKey } from '../policy/suppression-list.js';
import { topicOf } from '../policy/topic.js';
import {
  leaveForNewerWorker,
  NEWER_RELEASE_GRACE_MS,
  NewerVersionError,
  newerVersionOf,
} from '../runtime/newer-version.js';
import type { QueueShard } from '../runtime/queues.js';
import { workerErrorHandler } from '../runtime/worker-errors.js';
import { ridesInScripts } from '../store/stats-writes.js';
import { resolveAddress } from './address.js';
import { retryDelay } from './backoff.js';
import type { DeliveryDependencies } from './delivery-dependencies.js';
import { DELIVERY_JOB_VERSION, type DeliveryJobData } from './delivery-job.js';
import {
  claimOperation,
  erasedOperation,
  isOutcome,
  noteOperation,
  rerouteOperation,
} from './delivery-ledger.js';
import { heldSendIndex } from '../store/customer-jobs.js';
import { ClaimHeldError, OutcomeNotRecordedError, RetryLaterError } from './job-signals.js';
import { createMessageSender, type Target } from './message-sender.js';
import { createOutcomeRecorder, MESSAGE_LIST_CAP } from './outcome-recorder.js';
import { exitedAfterSend, JOURNEY_EXIT_RULE } from './journey-exit.js';
import { convertedAfterSend, JOURNEY_GOAL_RULE } from './journey-goal.js';
import { readSendState } from './send-state.js';
import { withRetries } from './with-retries.js';

export interface DeliveryWorkerOptions {
  connection: ConnectionOptions;
  /** The shard whose queue of the channel this worker takes jobs from, and hands sends on within. */
  shard: QueueShard;
  concurrency?: number;
  /** BullMQ rate limit for this channel's queue, e.g. `{ max: 50, duration: 1000 }`. */
  limiter?: { max: number; duration: number };
  retry?: { baseMs: number; maxMs: number };
  /**
   * A claim not renewed for this long, left by a run that died mid-send, is taken over (the send
   * is then repeated through an idempotent adapter, or recorded `unknown`). A run still waiting on
   * its provider renews its claim every quarter of this, so a slow provider is not taken for a
   * dead run. Default four times `lockMs`: two minutes with the default lock. A run that meets a
   * younger claim waits until then, without spending an attempt (see ClaimHeldError).
   */
  claimStaleMs?: number;
  /** BullMQ lock duration and stalled-check interval (LOCK_DURATION_MS). */
  lockMs?: number;
  /**
   * How many times a job may stall (its worker died or hung) before BullMQ fails it and it ends
   * `unknown` or `failed`. Default 3: a send held by two workers that died in a row (a crash during
   * a rolling restart, a worker killed for memory twice) still goes out. More stalls never send
   * twice: a resumed run waits for the dead run's claim to go stale, then repeats the send only
   * through an idempotent adapter. The bound is for a send that kills its worker every time.
   */
  maxStalledCount?: number;
  /** In-process retries of the outcome write once a provider has answered. Default 6 tries from 50 ms. */
  recordRetry?: { attempts: number; baseMs: number };
}

/** How many times a delivery job may stall before BullMQ gives up on it (see `maxStalledCount`). */
const DELIVERY_MAX_STALLED = 3;

/** The rule named when a channel cannot take the send at all (no provider, template or address). */
const UNAVAILABLE_RULE = 'channel-unavailable';

/** How long a provider's "the customer opted out" at send time suppresses the address (see its use). */
const OPTED_OUT_HOLD_MS = 30 * 86_400_000;

/** Why a send did not go out on this channel, and which rule said so. */
interface Refusal {
  reason: string;
  rule: string;
}

/**
 * The worker of one channel's queue. For each send: look the operation up in the ledger (an
 * ended one is done, a rerouted one is forwarded), read the customer's traits now, resolve the
 * address (or fall back to the next preferred channel), ask the policy hook, claim the
 * operation, render, call the provider, and record the outcome once per operation id.
 *
 * A claim left by a run that died mid-send means nobody knows whether the provider accepted:
 * an idempotent adapter sends again (the receiver recognises the repeat), any other records the
 * outcome as `unknown` rather than risk sending twice.
 */
export function createDeliveryWorker(
  channel: Channel,
  deps: DeliveryDependencies,
  options: DeliveryWorkerOptions,
): Worker {
  const { store, clock, logger } = deps;
  const redis = store.redis;
  const adapter = deps.adapters[channel];
  const retry = options.retry ?? { baseMs: 1_000, maxMs: 300_000 };
  const lockMs = options.lockMs ?? 30_000;
  const claimStaleMs = options.claimStaleMs ?? 4 * lockMs;
  const recordRetry = options.recordRetry ?? { attempts: 6, baseMs: 50 };
  /**
   * Gives back what the policy took for a send that did not go out on this channel (a cap's slot).
   * A no-op for a send the policy never let through.
   */
  const release = deps.policy.release
    ? (job: DeliveryJobData) => deps.policy.release!({ job, channel, now: clock.now() })
    : undefined;
  const outcomes = createOutcomeRecorder({
    channel,
    store,
    clock,
    logger,
    provider: adapter?.provider ?? channel,
    recordRetry,
    ...(release ? { onNotSent: release } : {}),
  });
  // Set when the worker starts closing: runs still with a provider then stop renewing their claims.
  let closing = false;
  const send = createMessageSender(channel, deps, outcomes, recordRetry, {
    renewEveryMs: Math.max(1, Math.floor(claimStaleMs / 4)),
    live: () => !closing,
  });
  // The list is one key outside the customer's slot: read along with the customer only where a
  // script may touch both, on a single Redis.
  const suppressionKey = ridesInScripts(redis) ? suppressionListKey(store.prefix) : undefined;
  const suppressions = new SuppressionList(redis, store.prefix);

  /** Puts the send on `next`'s queue of this shard; a no-op while a job for this operation waits there. */
  async function forward(job: DeliveryJobData, next: Channel): Promise<string> {
    await options.shard.deliveries[next].add(job.message, { ...job, channel: next }, { jobId: job.opId });
    return `rerouted to ${next}`;
  }

  /** Metrics must never fail a delivery: a decision is counted on a best-effort basis. */
  async function decided(action: 'skip' | 'reroute' | 'delay', rule: string): Promise<void> {
    await countDecision(redis, store.prefix, { channel, action, rule }).catch((err: unknown) =>
      logger.warn({ err, channel, action, rule }, 'policy decision not counted in metrics'),
    );
  }

  /** Ends the send `skipped`; counted by the run that ended it only, as another run may have ended it first. */
  async function skip(job: DeliveryJobData, refusal: Refusal, now: number): Promise<string> {
    if (!(await outcomes.end(job, 'skipped', { ...refusal }, now))) return 'already ended';
    await decided('skip', refusal.rule);
    return 'skipped';
  }

  /**
   * Hands the send to the next preferred channel, or records why nothing could be sent: skipped,
   * or, when `refusedBy` a provider (it said the address cannot be reached), failed.
   */
  async function fallBack(
    job: DeliveryJobData,
    refusal: Refusal,
    now: number,
    refusedBy?: { provider: string },
  ): Promise<string> {
    const { reason, rule } = refusal;
    const next = job.channels
      .slice(job.channels.indexOf(channel) + 1)
      .find((c) => deps.adapters[c] !== undefined);
    if (!next) {
      const why = `${reason}; no further channel in [${job.channels.join(', ')}]`;
      if (!refusedBy) return skip(job, { reason: why, rule }, now);
      // Recorded as a provider's answer is: retried here, so that a Redis blip does not run the
      // job again, which would ask the provider again.
      await outcomes.record(job, 'failed', { reason: why, provider: refusedBy.provider }, now);
      throw new UnrecoverableError(why);
    }
    // Noted in the ledger first, so a replay of this job forwards it again instead of deciding afresh.
    const note = outcomes.entry(job, 'rerouted', { reason, rule, at: now, to: next });
    const reroute = await rerouteOperation(redis, outcomes.keys(job), channel, next, note, MESSAGE_LIST_CAP);
    // Another run of this job may have decided first: the route in force is followed, a send that
    // ended is not handed on, and one a run claimed (or whose provider may have it) is looked at
    // again later, when that run has let go of it or gone stale.
    if (reroute.result === 'ended') return `already ${reroute.outcome}`;
    if (reroute.result === 'sending') throw new ClaimHeldError(job.opId, claimStaleMs);
    // Counted by the run that set the route only: a retry or another run following it is the same reroute.
    if (reroute.set) await decided('reroute', rule);
    // An earlier attempt on this channel may have taken a cap slot (its provider asked to retry,
    // and then consent or suppression refused): given back before the next channel asks, which
    // would otherwise find the operation counted and pass it without checking its own caps.
    await release?.(job).catch((err: unknown) =>
      logger.warn({ err, opId: job.opId, channel }, 'policy not told of a rerouted send'),
    );
    return forward(job, reroute.channel);
  }

  /**
   * A held send is shown on the customer as one note, brought up to date each time it is held
   * again (see noteOperation): it is not an outcome.
   * Answers false when the operation ended meanwhile (its customer was erased): nothing to hold.
   */
  async function noteDelay(job: DeliveryJobData, refusal: Refusal, untilMs: number, now: number) {
    const note = outcomes.entry(job, 'delayed', { ...refusal, until: untilMs, at: now });
    const index = heldSendIndex(store.prefix, job.customerId, job.opId, untilMs - now);
    const { noted } = await noteOperation(redis, outcomes.keys(job), note, MESSAGE_LIST_CAP, index);
    if (noted) await decided('delay', refusal.rule);
    return noted;
  }

  /** Why this channel cannot send the job now, or what it needs to. */
  function prepare(job: DeliveryJobData, traits: Record<string, unknown>): Target | { blocked: string } {
    const core = deps.messages.get(job.message);
    if (!adapter) return { blocked: `no ${channel} provider is configured` };
    if (!core || !deps.renderer.supports(job.message, channel))
      return { blocked: `message "${job.message}" has no ${channel} template` };
    const address = resolveAddress(channel, traits, core.webhook?.url);
    if (!address) return { blocked: `the customer has no ${channel} address` };
    return { adapter, core, address };
  }

  async function process(job: Job<DeliveryJobData>, token?: string): Promise<string> {
    const data = job.data;
    const newer = newerVersionOf(data, DELIVERY_JOB_VERSION);
    if (newer !== undefined) {
      const error = new NewerVersionError(`Delivery job ${job.id}`, newer);
      logger.warn({ jobId: job.id, channel, err: error }, 'delivery job left for a newer worker');
      return leaveForNewerWorker(job, token, error);
    }
    const now = clock.now();
    // Journeys are checked against the templates at load, so a message this worker lacks was
    // sent by a journey of a newer release (a rolling deployment, a canary): left for a worker of
    // it rather than taken as a channel without a template, which would skip the send. After the
    // grace it is taken to be gone (removed by a release while its sends waited), as before.
    if (!deps.messages.get(data.message) && now - data.at < NEWER_RELEASE_GRACE_MS) {
      const error = new NewerVersionError(`Message "${data.message}" of delivery job ${job.id}`);
      logger.warn({ jobId: job.id, channel, err: error }, 'delivery job left for a newer worker');
      return leaveForNewerWorker(job, token, error);
    }
    const keys = outcomes.keys(data);
    // The ledger comes first: a replay of a job whose send already ended, or was handed to
    // another channel, must not ask the policy or reroute again.
    // The traits and consent (and on a single Redis the suppression list) are read with it, in
    // one round trip: they are only used when the operation is still open, and they are then as
    // fresh as a read after it.
    const topic = topicOf(deps.messages.get(data.message) ?? {});
    const { op, traits, consent, suppression, instance } = await readSendState(
      redis,
      store.keys(data.customerId),
      {
        opId: data.opId,
        instanceId: data.instanceId,
        ...(data.cancelOnGoal === true ? { cancelOnGoal: true } : {}),
        channel,
        topic,
        ...(suppressionKey ? { suppressionKey } : {}),
      },
    );
    if (isOutcome(op.state)) return `already ${op.state}`;
    if (op.route && op.route !== channel) return forward(data, op.route);
    // A claim is left, or an attempt's provider went silent with the message: an earlier run
    // decided to send and may have sent. Neither the policy nor a fallback may undo that decision
    // now (a skip would be a lie, a reroute a second message).
    const resuming = op.state === 'sending' || op.mayHaveArrived;

    const target = prepare(data, traits);
    if (!resuming) {
      // Before any channel is looked at: leaving the journey (or reaching the goal, for a send
      // cancelled on it) stops the send on every channel.
      const exited = exitedAfterSend(data, instance);
      if (exited !== undefined) return skip(data, { reason: exited, rule: JOURNEY_EXIT_RULE }, now);
      const converted = convertedAfterSend(data, instance);
      if (converted !== undefined) return skip(data, { reason: converted, rule: JOURNEY_GOAL_RULE }, now);
      if ('blocked' in target) return fallBack(data, { reason: target.blocked, rule: UNAVAILABLE_RULE }, now);
      const decision = await deps.policy.check({
        job: data,
        channel,
        traits,
        now,
        topic: target.core.topic,
        message: target.core,
        address: target.address,
        ...(consent ? { consent } : {}),
        ...(suppression ? { suppression } : {}),
      });
      if (decision.action !== 'send') {
        const refusal = { reason: decision.reason, rule: decision.rule ?? 'policy' };
        if (decision.action === 'skip') return skip(data, refusal, now);
        if (decision.action === 'reroute') return fallBack(data, refusal, now);
        if (!(await noteDelay(data, refusal, decision.untilMs, now))) return 'already ended';
        await job.moveToDelayed(decision.untilMs, token);
        throw new DelayedError(decision.reason);
      }
    }

    // One token per run, so a claim left by an earlier run (one that died, or threw after claiming)
    // belongs to someone else: this run waits for it to go stale instead of sending again at once.
    // BullMQ's lock token alone is not enough: a worker slot keeps it for every job it fetches
    // next, so the retry of a job could meet its own earlier attempt's claim under the same token.
    // attemptsStarted grows with every run (a retry, a delay's end, a stalled job taken again).
    const claimToken = `${token ?? job.id!}:${job.attemptsStarted}`;
    const claim = await claimOperation(redis, keys.op, {
      token: claimToken,
      now,
      staleMs: claimStaleMs,
      channel,
    });
    if (claim.result === 'ended') return `already ${claim.outcome}`;
    // Forwarded again: the run that rerouted it may have died before it forwarded.
    if (claim.result === 'rerouted') return forward(data, claim.to);
    if (claim.result === 'busy') throw new ClaimHeldError(data.opId, claim.retryInMs);
    const earlier = (since: number) =>
      `a run that held it (last heard of at ${new Date(since).toISOString()}) stopped before recording the provider's answer`;
    if (claim.result === 'resumed' && !adapter?.idempotent) {
      const provider = adapter?.provider ?? channel;
      const reason = `${earlier(claim.since)}; ${provider} cannot recognise a repeated send, so it was not sent again`;
      await outcomes.record(data, 'unknown', { reason, provider }, now);
      return 'unknown';
    }
    if ('blocked' in target) {
      // Only a resumed or repeated send gets here: a fresh one fell back above.
      const before =
        claim.result === 'resumed'
          ? earlier(claim.since)
          : 'an earlier attempt left it with its provider, which did not answer for it';
      await outcomes.record(
        data,
        'unknown',
        { reason: `${before}; it cannot be sent again: ${target.blocked}` },
        now,
      );
      return 'unknown';
    }
    if (claim.result === 'resumed')
      logger.warn({ opId: data.opId, channel }, 'sending again after a run died mid-send (idempotent)');
    const repeat = claim.result === 'resumed' || claim.repeat;
    if (claim.result === 'claimed' && claim.repeat)
      logger.warn(
        { opId: data.opId, channel },
        'sending again after the provider went silent with it (idempotent)',
      );
    const sent = await send(data, { ...target, traits }, claimToken, repeat, now);
    if (typeof sent === 'string') return sent;
    // A mailbox the receiving server says does not exist is a hard bounce, told at once rather
    // than by a bounce report: suppressed as one, so later sends (of every customer using the
    // address) do not keep knocking at it, which mailbox providers hold against the sender. A push
    // token FCM no longer knows likewise: each send to it would be a request for nothing. A
    // number whose owner replied STOP is an unsubscribe told at once: marketing to it stops before
    // the provider, and the customer's START (POST /v1/sms/inbound/twilio) lifts it. Only for
    // OPTED_OUT_HOLD_MS: without the inbound webhook their START reaches Twilio alone, and the
    // number would stay suppressed for good; after it, one text asks the provider again.
    const reason = sent.addressGone ? 'hard-bounce' : sent.optedOut ? 'unsubscribe' : undefined;
    const address = reason ? suppressibleAddress(channel, target.address) : undefined;
    if (reason && address)
      await suppressions.add(address, {
        reason,
        at: now,
        source: `${sent.provider}: ${sent.reason}`.slice(0, 200),
        ...(reason === 'unsubscribe' ? { until: now + OPTED_OUT_HOLD_MS } : {}),
      });
    // As when the customer has no address on this channel: the next one, else a failure.
    return fallBack(data, { reason: sent.reason, rule: UNAVAILABLE_RULE }, now, sent);
  }

  /**
   * A run that met another run's live claim waits for it without spending an attempt (see
   * ClaimHeldError). A run whose customer was erased while it ran ends here instead of failing:
   * its error (a provider's answer, which may quote the address) would otherwise be kept on the
   * job, with the earlier attempts' that BullMQ holds in memory, for as long as the job is kept.
   */
  async function run(job: Job<DeliveryJobData>, token?: string): Promise<string> {
    try {
      return await process(job, token);
    } catch (error) {
      if (error instanceof DelayedError) throw error;
      if (error instanceof ClaimHeldError) {
        // A wait, not a point in journey time: BullMQ schedules delayed jobs by the wall clock.
        // Its message quotes nothing of the customer; a run after an erasure ends as skipped.
        await job.moveToDelayed(Date.now() + error.afterMs, token);
        throw new DelayedError(error.message);
      }
      // Asked only of an error that would stay on the job: a claim's wait costs no round trip more.
      if (await erasedOperation(redis, outcomes.keys(job.data).op).catch(() => false)) {
        logger.warn({ opId: job.data.opId, channel }, 'send of an erased customer ended without its error');
        return 'already skipped';
      }
      throw error;
    }
  }

  const worker = new Worker<DeliveryJobData>(options.shard.deliveries[channel].name, run, {
    connection: options.connection,
    prefix: options.shard.prefix,
    concurrency: options.concurrency ?? 20,
    lockDuration: lockMs,
    stalledInterval: lockMs,
    maxStalledCount: options.maxStalledCount ?? DELIVERY_MAX_STALLED,
    // Completed/failed counts per minute, kept in Redis for /metrics and the dashboard.
    metrics: { maxDataPoints: MetricsTime.ONE_WEEK },
    ...(options.limiter ? { limiter: options.limiter } : {}),
    settings: {
      backoffStrategy: (attemptsMade: number, _type?: string, err?: Error, job?: MinimalJob) =>
        retryDelay(attemptsMade, {
          ...retry,
          // So that `maxMs` is reached within the job's attempts, and raising it lengthens them.
          ...(job?.opts.attempts ? { attempts: job.opts.attempts } : {}),
          ...(err instanceof RetryLaterError && err.afterMs ? { floorMs: err.afterMs } : {}),
        }),
    },
  });
  worker.on('closing', () => {
    closing = true;
  });
  worker.on('failed', (job, err) => {
    if (!job || err instanceof DelayedError) return;
    const settled =
      err instanceof OutcomeNotRecordedError
        ? withRetries(() => outcomes.end(job.data, err.outcome, err.extra, err.at), recordRetry)
        : outcomes.abandon(job, err);
    void settled.catch((e: unknown) =>
      logger.error({ err: e, opId: job.data.opId }, 'could not record the end of a delivery'),
    );
  });
  worker.on('error', workerErrorHandler(logger, { channel }, 'delivery worker'));
  return worker;
}
