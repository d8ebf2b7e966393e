import { randomUUID } from 'node:crypto';
import type { Worker } from 'bullmq';
import type { z } from 'zod';
import { isCluster, type RedisConnection } from './redis/connection.js';
import { systemClock, type Clock } from './clock.js';
import type { Journey } from './journey/define-journey.js';
import { JourneyCatalog } from './journey/journey-catalog.js';
import type { MessageCatalog } from './journey/validate-journey.js';
import {
  IdentifyInput,
  InvalidInputError,
  parseInput,
  toEpochMs,
  TrackInput,
  TriggerInput,
} from './ingest/ingest-schema.js';
import { silentLogger, type Logger } from './logger.js';
import { CommandExecutor } from './runtime/command-executor.js';
import { CUSTOMER_EVENT_VERSION } from './runtime/customer-event.js';
import type { DrainDependencies } from './runtime/drain-customer.js';
import { allQueues, createQueues } from './runtime/queues.js';
import { RecordedShards, recordShardCount } from './runtime/recorded-shards.js';
import { checkShardCount } from './runtime/queue-shards.js';
import { checkEngineTiming } from './runtime/engine-timing.js';
import { LoadedJourneys, recordIntervalMs } from './runtime/loaded-journeys.js';
import type { ChannelAdapter } from './channels/channel-adapter.js';
import type { DeliveryPolicy } from './delivery/delivery-policy.js';
import type { Renderer } from './delivery/delivery-dependencies.js';
import { createWorkerPool, type WorkerOptions } from './worker-pool.js';
import type { Channel } from './journey/journey-schema.js';
import type { CoreMessage } from './messages/message-catalog.js';
import { CustomerJobIndex } from './store/customer-jobs.js';
import { SWEEPS_AHEAD, TimerWheel } from './runtime/timer-wheel.js';
import { eraseCustomer, type ErasureResult } from './store/customer-erasure.js';
import { CustomerStore } from './store/customer-store.js';
import { createInboxIntake, type IngestOptions, type IngestResult } from './ingest/inbox-intake.js';
import { identifyConsentMarker } from './ingest/identify-consent.js';
import { checkCallSize, checkMaxCallBytes, DEFAULT_MAX_CALL_BYTES } from './ingest/call-size.js';
import { ConsentTrait } from './policy/consent-record.js';
import { createConsentService, type ConsentOptions } from './policy/consent-service.js';
import { ConsentStore } from './policy/consent-store.js';
import type { PolicyRule } from './policy/policy-chain.js';
import { DoubleOptInNotConfiguredError, PolicyConfigError } from './policy/errors.js';
import { SuppressionList } from './policy/suppression-list.js';
import { createResubscribe } from './policy/resubscribe.js';
import type { LinkTracking } from './tracking/track-links.js';
import { settlesWithin } from './settles-within.js';

export { DeliveryNotConfiguredError, type WorkerOptions } from './worker-pool.js';

export interface EngineOptions {
  /** An ioredis connection created with `maxRetriesPerRequest: null` (BullMQ workers require it). */
  redis: RedisConnection;
  /** Prefix of every key the engine writes; use one per environment. Default `chorus`. */
  prefix?: string;
  journeys: readonly Journey[];
  messages: MessageCatalog;
  clock?: Clock;
  /** Journey waits run this many times faster than real time (TIME_SCALE): above 0, at most 1e9. Default 1. */
  timeScale?: number;
  logger?: Logger;
  /**
   * How often one worker sweeps for inboxes left without a drain job and promotes the timers
   * falling due within three sweeps from the timer wheel to BullMQ. Default 60 s; 100 ms to about
   * 24 days. A sweep scans the keyspace for at most a tenth of this (6 s at most) and the next
   * goes on where it stopped.
   * Also how often the process looks for queue shards another process recorded (RecordedShards).
   */
  sweepIntervalMs?: number;
  /**
   * Finished instances of each journey a customer keeps (KEEP_FINISHED_INSTANCES); older ones
   * are deleted at the customer's next event, their share of the journey counts kept. Default 5.
   */
  keepFinishedInstances?: number;
  /**
   * How many shards the queues are split into (QUEUE_SHARDS, 1-64, default 1), each customer's
   * jobs going to one of them: on a Redis Cluster, so that queue operations spread over the
   * masters instead of all landing on the one holding BullMQ's slot. The same on every process;
   * changing it while jobs wait is safe (see startWorkers, and README, On a Redis Cluster).
   */
  queueShards?: number;
  /**
   * Job lock and customer lease duration; a dead worker's jobs run elsewhere after about this
   * long. Default 30 s; 500 ms to 10 min.
   */
  lockMs?: number;
  /** What delivery workers need; required to run them. */
  delivery?: DeliveryOptions;
  /** Double opt-in and its confirmation links. Default: off. */
  consent?: ConsentOptions;
  /**
   * The largest call `track`, `identify` and `trigger` take, in bytes as JSON (MAX_CALL_BYTES);
   * the HTTP API holds its ingest calls to it too. Default 32 KB (DEFAULT_MAX_CALL_BYTES).
   */
  maxCallBytes?: number;
}

/** The message and channel layer: templates, providers, and the send-time policy hook. */
export interface DeliveryOptions {
  renderer: Renderer;
  /** The core messages, for the fields every template may use. */
  messages: { get(id: string): (CoreMessage & { webhook?: { url: string } }) | undefined };
  /** One adapter per channel the engine delivers on; a send falls back past channels without one. */
  adapters: Partial<Record<Channel, ChannelAdapter>>;
  /** Consent, suppression, caps and quiet hours, checked at send time. Default: `createDefaultPolicy`. */
  policy?: DeliveryPolicy;
  /**
   * Rules the default policy runs after suppression and consent: quiet hours, frequency caps
   * (`respectfulSending`). Refused beside `policy`, which replaces the default policy.
   */
  timing?: readonly PolicyRule[];
  /**
   * Base URL of the HTTP API (for the one-click unsubscribe link) and the secret that signs it.
   * `ttlDays`: the links run out that long after the send; unset (the default), they never do.
   */
  unsubscribe: { baseUrl: string; secret: string; ttlDays?: number };
  /** Locale and IANA time zone for customers whose traits name none. */
  defaults?: { locale: string; timezone: string };
  /** BullMQ rate limit per channel queue, e.g. `{ sms: { max: 10, duration: 1000 } }`. */
  limits?: Partial<Record<Channel, { max: number; duration: number }>>;
  retry?: { baseMs: number; maxMs: number };
  /** Open and click tracking (PUBLIC_URL, TRACK_LINKS, TRACK_OPENS); without it links go out as rendered. */
  tracking?: LinkTracking;
}

/** A `track` call as `TrackInput` parses it. */
export type ParsedTrack = z.output<typeof TrackInput>;
/** An `identify` call as `IdentifyInput` parses it. */
export type ParsedIdentify = z.output<typeof IdentifyInput>;

export type { IngestOptions, IngestResult } from './ingest/inbox-intake.js';

/**
 * BullMQ's queues get a connection of their own when the engine's auto-pipelines (an API
 * process: API_REDIS_OPTIONS). BullMQ defines its forty-odd scripts on the connection it is
 * given, and ioredis copies every script defined on a connection onto each pipeline it builds,
 * so on a shared connection every auto-pipelined command paid for that copy: about a third of
 * an API process's CPU at 250 requests a second, when most ticks carry a single command.
 */
function queueConnection(redis: RedisConnection): RedisConnection {
  if (!redis.options.enableAutoPipelining) return redis;
  const plain = { enableAutoPipelining: false };
  const queueRedis = isCluster(redis) ? redis.duplicate([], plain) : redis.duplicate(plain);
  // Its errors (Redis away) go where the caller listens for the connection it gave us.
  queueRedis.on('error', (err: unknown) => {
    if (redis.listenerCount('error') > 0) redis.emit('error', err);
  });
  return queueRedis;
}

/**
 * The engine: journeys, a Redis store and queues, ready to take events and run workers.
 * Only entry points in `workers/` create the Redis connection and call this.
 *
 * @example
 * const engine = createEngine({ redis, journeys: [onboarding], messages });
 * await engine.startWorkers();
 * await engine.track({ userId: 'u1', event: 'Signed Up', properties: { plan: 'pro' } });
 */
export function createEngine(options: EngineOptions) {
  const prefix = options.prefix ?? 'chorus';
  const clock = options.clock ?? systemClock;
  const logger = options.logger ?? silentLogger;
  const catalog = new JourneyCatalog(options.journeys, options.messages, {
    timezone: options.delivery?.defaults?.timezone ?? 'UTC',
    ...(options.keepFinishedInstances === undefined ? {} : { keepFinished: options.keepFinishedInstances }),
  });
  // Checked before anything opens a connection or a queue, which a throw would leave open.
  const doubleOptIn = options.consent?.doubleOptIn ?? false;
  const confirmLink = options.consent?.confirmLink ?? options.delivery?.unsubscribe;
  if (doubleOptIn && !confirmLink) throw new DoubleOptInNotConfiguredError();
  if (options.delivery?.policy && (options.delivery.timing?.length ?? 0) > 0)
    // The timing rules join the default policy only: beside a policy of the caller's own they
    // would never be asked, and sends would go out at night and over every cap.
    throw new PolicyConfigError(
      'delivery.timing',
      'its rules (quiet hours, frequency caps) run in the default policy, which delivery.policy replaces, so they would never be asked. To fix: put them in that policy, e.g. createDefaultPolicy({ redis, prefix, timing }), and leave delivery.timing out.',
    );
  const queueShards = options.queueShards ?? 1;
  checkShardCount(queueShards);
  const maxCallBytes = options.maxCallBytes ?? DEFAULT_MAX_CALL_BYTES;
  checkMaxCallBytes(maxCallBytes);
  checkEngineTiming(options);
  const lockMs = options.lockMs ?? 30_000;
  const store = new CustomerStore(options.redis, { prefix, leaseMs: lockMs });
  const queueRedis = queueConnection(options.redis);
  const queues = createQueues(queueRedis, prefix, queueShards);
  // So that processes given fewer shards still find every job when they must (erasure, the sweep).
  void recordShardCount(options.redis, prefix, queueShards).catch((err: unknown) =>
    logger.error({ err }, 'could not record the queue shard count'),
  );
  const jobIndex = new CustomerJobIndex(options.redis, prefix);
  const sweepIntervalMs = options.sweepIntervalMs ?? 60_000;
  // Read by the workers, the sweep, erasure, the dashboard and metrics, at the sweep's pace.
  const shards = new RecordedShards(queues, options.redis, logger, sweepIntervalMs);
  // Three sweeps ahead: a timer is promoted to BullMQ even if one or two sweeps are late.
  const timerWheel = new TimerWheel(options.redis, shards, SWEEPS_AHEAD * sweepIntervalMs);
  const executor = new CommandExecutor({
    jobIndex,
    timerWheel,
    queues,
    clock,
    timeScale: options.timeScale ?? 1,
  });
  // Recorded by the workers and the API as they start, at the sweep's pace: see LoadedJourneys.
  const loadedJourneys = new LoadedJourneys(
    options.redis,
    prefix,
    catalog,
    clock,
    logger,
    recordIntervalMs(sweepIntervalMs),
  );
  const drainDeps: DrainDependencies = { store, catalog, executor, clock, logger, loadedJourneys };
  const pool = createWorkerPool({
    redis: options.redis,
    prefix,
    shards,
    loadedJourneys,
    drain: drainDeps,
    store,
    delivery: options.delivery,
    doubleOptIn,
    clock,
    logger,
    lockMs,
    sweepIntervalMs,
  });
  const suppressions = new SuppressionList(options.redis, prefix);
  const consent = createConsentService({
    store: new ConsentStore(options.redis, prefix),
    doubleOptIn,
    confirmLink,
    eventIdMemoryMs: store.dedupeSeconds * 1000,
    clock,
    track: (input, options) => engineApi.track(input, options),
    resubscribe: createResubscribe({ suppressions, profile: (customerId) => store.profile(customerId) }),
  });

  const intake = createInboxIntake({ store, queues, logger });
  const ingest = intake.ingest;

  /** The fields every inbox event shares: its id (the client's messageId, or a new one) and time. */
  function envelope(input: {
    userId: string;
    messageId?: string | undefined;
    timestamp?: string | number | undefined;
  }) {
    return {
      v: CUSTOMER_EVENT_VERSION,
      id: input.messageId ?? randomUUID(),
      customerId: input.userId,
      timestamp: toEpochMs(input.timestamp, clock.now()),
    };
  }

  const engineApi = {
    catalog,
    store,
    queues,
    /** This process's queue shards and those beyond that other processes recorded. */
    shards,
    /** What every process of the prefix loads: the journeys this one does not, and since when. */
    loadedJourneys,
    prefix,
    /** The largest call taken, in bytes as JSON (see EngineOptions.maxCallBytes). */
    maxCallBytes,
    jobIndex,
    timerWheel,
    /** Consent per customer, channel and topic, with double opt-in. */
    consent,
    /** The suppression list shared by every channel, keyed by address. */
    suppressions,

    /**
     * Segment `track`: may enrol the customer in journeys and advance the ones they are in. With
     * `{ knownOnly: true }`, only for a customer the engine knows (see IngestOptions).
     */
    async track(input: TrackInput, options?: IngestOptions): Promise<IngestResult> {
      const t = parseInput(TrackInput, input, 'track call');
      checkCallSize(t, maxCallBytes, 'track call');
      return engineApi.acceptTrack(t, options);
    },

    /**
     * `track` for a call already parsed with `TrackInput` (the HTTP routes validate the body
     * once, at the boundary); code outside the engine calls `track`.
     */
    async acceptTrack(t: ParsedTrack, options?: IngestOptions): Promise<IngestResult> {
      return ingest(
        { ...envelope(t), kind: 'track', name: t.event, properties: t.properties },
        t.messageId,
        options,
      );
    },

    /**
     * Segment `identify`: merges traits into the profile (a `null` trait is removed). A `consent`
     * trait (`{ email: { marketing: true } }`) is recorded in the consent store, with the call's
     * timestamp as its evidence, and kept out of the profile.
     */
    async identify(input: IdentifyInput): Promise<IngestResult> {
      const t = parseInput(IdentifyInput, input, 'identify call');
      checkCallSize(t, maxCallBytes, 'identify call');
      return engineApi.acceptIdentify(t);
    },

    /** `identify` for a call already parsed with `IdentifyInput` (see `acceptTrack`). */
    async acceptIdentify(t: ParsedIdentify): Promise<IngestResult> {
      const { consent: answers, ...traits } = t.traits;
      const event = { ...envelope(t), kind: 'identify' as const, traits };
      // The push is issued first, before any await, so a batch's calls still reach Redis in order.
      // IdentifyInput has checked the consent trait already; a retried call does not record it again.
      const [result] = await Promise.all([
        ingest(event, t.messageId),
        answers === undefined || answers === null
          ? undefined
          : consent.recordTrait(
              t.userId,
              ConsentTrait.parse(answers),
              event.timestamp,
              identifyConsentMarker(store, t),
            ),
      ]);
      return result;
    },

    /** Enters one customer into an API-triggered journey with data for its trigger schema. */
    async trigger(journeyId: string, input: TriggerInput): Promise<IngestResult> {
      const journey = catalog.latest(journeyId);
      const t = parseInput(TriggerInput, input, `trigger of journey ${journey.id}`);
      if (journey.trigger.kind !== 'api')
        throw new InvalidInputError(
          [
            {
              field: 'journeyId',
              message: `journey "${journey.id}" starts on the event "${journey.trigger.event}", not through the API; send that event with track instead`,
            },
          ],
          `trigger of journey ${journey.id}`,
        );
      parseInput(journey.trigger.schema, t.data, `data for journey ${journey.id}`, 'data');
      checkCallSize(t, maxCallBytes, `trigger of journey ${journey.id}`);
      return ingest(
        {
          ...envelope(t),
          kind: 'enter',
          journeyId,
          journeyVersion: journey.version,
          data: t.data,
          receivedAt: clock.now(),
        },
        t.messageId,
      );
    },

    /**
     * Resolves once the drain job of every event answered so far is added, or left to the sweep
     * (an ingest call answers before that: see createInboxIntake).
     */
    settleIngest(): Promise<void> {
      return intake.settle();
    },

    /** How many drain-job adds this process left to the sweep (each logged): `/metrics` reports it. */
    drainAddsGivenUp(): number {
      return intake.givenUp;
    },

    /** The customer as stored: traits, journey instances, recent events and messages. */
    customer(userId: string) {
      return store.read(userId);
    },

    /**
     * Erases the customer: every key of theirs, and their queued jobs and timers in every shard.
     * See eraseCustomer.
     */
    erase(userId: string): Promise<ErasureResult> {
      const adapters = Object.values(options.delivery?.adapters ?? {});
      return eraseCustomer({ store, jobIndex, timerWheel, shards, clock, adapters }, userId);
    },

    /**
     * Starts the journey and delivery workers in this process, for each queue shard, and for the
     * shards other processes recorded beyond this one's count: at once for those already found, as
     * they are found for the others (see createWorkerPool).
     */
    startWorkers(workerOptions: WorkerOptions = {}): Worker[] {
      return pool.start(workerOptions);
    },

    /**
     * Stops workers (letting active jobs finish; after `deadlineMs` they are left to be re-run
     * elsewhere as stalled jobs) and waits, within the same deadline, for the drain jobs of events
     * already answered to be added (those not added are left to the sweep); then closes the
     * queues and the channel adapters. The Redis connection is the caller's.
     */
    async close(deadlineMs = 10_000): Promise<void> {
      // Providers' pooled connections (SMTP) would otherwise keep the process alive.
      const closeAdapters = () =>
        Promise.all(Object.values(options.delivery?.adapters ?? {}).map((adapter) => adapter.close?.()));
      pool.settle();
      shards.stop();
      loadedJourneys.stop();
      const graceful = Promise.all([...pool.workers.map((w) => w.close()), intake.settle()]);
      if (!(await settlesWithin(graceful, deadlineMs))) {
        // BullMQ keeps the first close(): a close(true) now would wait on the same active jobs
        // (a send stuck on a provider that never answers would hold the process for minutes).
        // Closing the providers instead ends the calls still in flight: their jobs finish as
        // retries, handed back to the queue. Any job still running after that is left behind; its
        // lock expires and another worker re-runs it as a stalled job.
        await closeAdapters();
        await settlesWithin(graceful, HAND_BACK_MS);
      }
      await Promise.all(allQueues(queues).map((queue) => queue.close()));
      await shards.close();
      if (queueRedis !== options.redis) queueRedis.disconnect();
      await closeAdapters();
    },
  };

  return engineApi;
}

export type Engine = ReturnType<typeof createEngine>;

/** How long `close` waits, after the deadline, for jobs whose provider calls it has cut short. */
const HAND_BACK_MS = 1_000;
