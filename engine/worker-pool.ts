import type { Worker } from 'bullmq';
import type { Clock } from './clock.js';
import type { DeliveryDependencies } from './delivery/delivery-dependencies.js';
import { createDeliveryWorker } from './delivery/delivery-worker.js';
import type { DeliveryOptions } from './engine.js';
import { ChorusError } from './errors.js';
import { CHANNELS } from './journey/journey-schema.js';
import type { Logger } from './logger.js';
import { createDefaultPolicy } from './policy/default-policy.js';
import type { RedisConnection } from './redis/connection.js';
import type { DrainDependencies } from './runtime/drain-customer.js';
import { createJourneyWorker, DEFAULT_SWEEP_BUDGET_MS, SWEEP_SCHEDULER } from './runtime/journey-worker.js';
import { shardLimiter } from './runtime/queue-shards.js';
import {
  createQueueShards,
  recordedShardCount,
  shardQueues,
  type Queues,
  type QueueShard,
} from './runtime/queues.js';
import type { CustomerStore } from './store/customer-store.js';

export class DeliveryNotConfiguredError extends ChorusError {
  constructor() {
    super(
      'CHORUS_DELIVERY_NOT_CONFIGURED',
      'Delivery workers were asked for, but the engine has no delivery options (renderer, adapters, unsubscribe). ' +
        'To fix: pass `delivery` to createEngine, or start workers with { deliveries: false }.',
    );
  }
}

export interface WorkerOptions {
  /** Run the journey workers, one per queue shard (default true). */
  journeys?: boolean;
  /** Run the delivery workers, one per channel and queue shard (default true). */
  deliveries?: boolean;
  journeyConcurrency?: number;
  deliveryConcurrency?: number;
}

/** What the engine's workers share with it. */
export interface WorkerPoolDependencies {
  redis: RedisConnection;
  /** The connection the engine's queues use (see createEngine's queueConnection). */
  queueRedis: RedisConnection;
  prefix: string;
  queues: Queues;
  drain: DrainDependencies;
  store: CustomerStore;
  delivery: DeliveryOptions | undefined;
  doubleOptIn: boolean;
  clock: Clock;
  logger: Logger;
  lockMs: number;
  sweepIntervalMs: number;
}

/**
 * The workers of one engine: a journey worker for each queue shard, and a delivery worker for
 * each channel and shard. Shards that another process was given beyond this one's count (see
 * shardCountKey) get workers too, a moment after the others: a job put there must not wait for
 * a process with the larger QUEUE_SHARDS, and lowering the count must not strand the jobs of the
 * shards dropped.
 */
export function createWorkerPool(deps: WorkerPoolDependencies) {
  const { queues, logger } = deps;
  const workers: Worker[] = [];
  /** The roles each `start` asked for, so that shards recorded later get the same workers. */
  const roles: WorkerOptions[] = [];
  /** Shards beyond this process's count that have workers here, their queues closed with the pool. */
  const beyond: QueueShard[] = [];
  let closing = false;
  let checking = false;
  let recheck: NodeJS.Timeout | undefined;

  let delivering: DeliveryDependencies | undefined;

  /** What every delivery worker of the pool shares, made once: the default policy among it. */
  function deliveryDependencies(delivery: DeliveryOptions): DeliveryDependencies {
    delivering ??= {
      store: deps.store,
      renderer: delivery.renderer,
      messages: delivery.messages,
      adapters: delivery.adapters,
      policy:
        delivery.policy ??
        createDefaultPolicy({
          redis: deps.redis,
          prefix: deps.prefix,
          doubleOptIn: deps.doubleOptIn,
          timing: delivery.timing ?? [],
        }),
      clock: deps.clock,
      logger,
      unsubscribe: delivery.unsubscribe,
      defaults: delivery.defaults ?? { locale: 'en-US', timezone: 'UTC' },
      ...(delivery.tracking ? { tracking: delivery.tracking } : {}),
    };
    return delivering;
  }

  /** Workers of every role `options` asks for, on each of `shards` (`count` in all). */
  function startOn(shards: readonly QueueShard[], count: number, options: WorkerOptions): Worker[] {
    // Before any worker is made: one made ahead of a throw would run on, unclosed.
    if (options.deliveries !== false && !deps.delivery) throw new DeliveryNotConfiguredError();
    const started: Worker[] = [];
    if (options.journeys !== false)
      for (const shard of shards)
        started.push(
          createJourneyWorker(deps.drain, {
            connection: deps.redis,
            shard,
            logger,
            lockMs: deps.lockMs,
            concurrency: options.journeyConcurrency ?? 50,
            sweepBudgetMs: Math.min(DEFAULT_SWEEP_BUDGET_MS, deps.sweepIntervalMs / 10),
          }),
        );
    const delivery = deps.delivery;
    if (options.deliveries !== false && delivery) {
      const shared = deliveryDependencies(delivery);
      // Every channel gets a worker in each shard, also one without an adapter: it hands sends on
      // to the next channel.
      for (const shard of shards)
        for (const channel of CHANNELS) {
          const limiter = delivery.limits?.[channel];
          started.push(
            createDeliveryWorker(channel, shared, {
              connection: deps.redis,
              shard,
              concurrency: options.deliveryConcurrency ?? 20,
              lockMs: deps.lockMs,
              ...(limiter ? { limiter: shardLimiter(limiter, count) } : {}),
              ...(delivery.retry ? { retry: delivery.retry } : {}),
            }),
          );
        }
    }
    return started;
  }

  /** The count of shards worked here: this process's own, then the recorded ones beyond. */
  const worked = () => queues.shards.length + beyond.length;

  /** Starts every role asked for so far on the shards recorded beyond those worked here. */
  async function workRecordedShards(): Promise<void> {
    const count = await recordedShardCount(deps.redis, deps.prefix, queues.shards.length);
    // After the await: close may have begun meanwhile, and nothing may start after it.
    if (count <= worked() || closing) return;
    const added = createQueueShards(deps.queueRedis, deps.prefix, worked(), count);
    beyond.push(...added);
    for (const options of roles) workers.push(...startOn(added, count, options));
    logger.warn(
      { queueShards: queues.shards.length, recorded: count },
      'QUEUE_SHARDS is below what another process was given: working the shards beyond it too',
    );
  }

  /** Looks for newly recorded shards, one look at a time. */
  function check(): void {
    if (checking || closing) return;
    checking = true;
    workRecordedShards()
      .catch((err: unknown) => logger.error({ err }, 'could not start workers for recorded queue shards'))
      .finally(() => (checking = false));
  }

  return {
    workers,

    /**
     * Starts the workers `options` asks for on this process's shards, and on the recorded shards
     * beyond them: at once on those already found, a moment later on any found now, and on any
     * recorded later within a sweep interval. Returns those of this process's own shards.
     */
    start(options: WorkerOptions): Worker[] {
      const started = startOn(queues.shards, queues.shards.length, options);
      if (options.journeys !== false) {
        // One sweep for every shard, in shard 0's queue: it routes what it finds by customer.
        void queues.journeys
          .upsertJobScheduler(SWEEP_SCHEDULER, { every: deps.sweepIntervalMs }, { name: 'sweep', data: {} })
          .catch((err: unknown) => logger.error({ err }, 'could not schedule the inbox sweep'));
      }
      workers.push(...started, ...startOn(beyond, worked(), options));
      roles.push(options);
      check();
      recheck ??= setInterval(check, deps.sweepIntervalMs).unref();
      return started;
    },

    /**
     * Starts no more workers. It does not wait for a look at the record in flight (with Redis
     * away it could wait for ever): what that look would start checks `closing` first.
     */
    settle(): void {
      closing = true;
      clearInterval(recheck);
    },

    /** Closes the queues opened for recorded shards (the engine closes its own). */
    async closeQueues(): Promise<void> {
      await Promise.all(beyond.flatMap(shardQueues).map((queue) => queue.close()));
    },
  };
}

export type WorkerPool = ReturnType<typeof createWorkerPool>;
