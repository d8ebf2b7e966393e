import type { Queue, Worker } from 'bullmq';
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
  allQueues,
  createQueues,
  recordedShardCount,
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
  /** Queues opened for shards beyond this process's count, closed with the pool. */
  const recordedShardQueues: Queue[] = [];
  const recordedShardsStarting: Array<Promise<void>> = [];
  let closing = false;

  /** Workers of every role `options` asks for, on each of `shards` (`count` in all). */
  function startOn(shards: readonly QueueShard[], count: number, options: WorkerOptions): Worker[] {
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
    if (options.deliveries !== false) {
      const delivery = deps.delivery;
      if (!delivery) throw new DeliveryNotConfiguredError();
      const shared: DeliveryDependencies = {
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

  /** Starts workers on the shards other processes recorded beyond this one's count, if any. */
  async function startRecordedShards(options: WorkerOptions): Promise<void> {
    const count = await recordedShardCount(deps.redis, deps.prefix, queues.shards.length);
    if (count === queues.shards.length || closing) return;
    const wider = createQueues(deps.queueRedis, deps.prefix, count);
    recordedShardQueues.push(...allQueues(wider));
    workers.push(...startOn(wider.shards.slice(queues.shards.length), count, options));
    logger.warn(
      { queueShards: queues.shards.length, recorded: count },
      'QUEUE_SHARDS is below what another process was given: working the shards beyond it too',
    );
  }

  return {
    workers,

    /** Starts the workers `options` asks for; returns those of this process's own shards. */
    start(options: WorkerOptions): Worker[] {
      const started = startOn(queues.shards, queues.shards.length, options);
      if (options.journeys !== false) {
        // One sweep for every shard, in shard 0's queue: it routes what it finds by customer.
        void queues.journeys
          .upsertJobScheduler(SWEEP_SCHEDULER, { every: deps.sweepIntervalMs }, { name: 'sweep', data: {} })
          .catch((err: unknown) => logger.error({ err }, 'could not schedule the inbox sweep'));
      }
      workers.push(...started);
      recordedShardsStarting.push(
        startRecordedShards(options).catch((err: unknown) =>
          logger.error({ err }, 'could not start workers for the queue shards other processes recorded'),
        ),
      );
      return started;
    },

    /** Stops starting workers; every worker started is in `workers` once this resolves. */
    async settle(): Promise<void> {
      closing = true;
      await Promise.all(recordedShardsStarting);
    },

    /** Closes the queues opened for recorded shards (the engine closes its own). */
    async closeQueues(): Promise<void> {
      await Promise.all(recordedShardQueues.map((queue) => queue.close()));
    },
  };
}

export type WorkerPool = ReturnType<typeof createWorkerPool>;
