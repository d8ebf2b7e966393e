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
import type { QueueShard } from './runtime/queues.js';
import type { RecordedShards } from './runtime/recorded-shards.js';
import type { LoadedJourneys } from './runtime/loaded-journeys.js';
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
  prefix: string;
  /** This process's shards and those beyond that other processes recorded. */
  shards: RecordedShards;
  /** Recorded, and again every interval, once workers start: see LoadedJourneys. */
  loadedJourneys: LoadedJourneys;
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
 * shardCountKey) get workers too, once found (RecordedShards): a job put there must not wait for
 * a process with the larger QUEUE_SHARDS, and lowering the count must not strand the jobs of the
 * shards dropped.
 */
export function createWorkerPool(deps: WorkerPoolDependencies) {
  const { shards, logger } = deps;
  const queues = shards.own;
  const workers: Worker[] = [];
  /** The roles each `start` asked for, so that shards recorded later get the same workers. */
  const roles: WorkerOptions[] = [];
  let closing = false;

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

  /** Workers of every role `options` asks for, on each of `targets` (of `count` shards in all). */
  function startOn(targets: readonly QueueShard[], count: number, options: WorkerOptions): Worker[] {
    // Before any worker is made: one made ahead of a throw would run on, unclosed.
    if (options.deliveries !== false && !deps.delivery) throw new DeliveryNotConfiguredError();
    const started: Worker[] = [];
    if (options.journeys !== false)
      for (const shard of targets)
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
      for (const shard of targets)
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

  // Shards found later get the workers of every role asked for so far.
  shards.onFound((added, count) => {
    if (!closing) for (const options of roles) workers.push(...startOn(added, count, options));
  });

  return {
    workers,

    /**
     * Starts the workers `options` asks for on this process's shards, and on the recorded shards
     * beyond them: at once on those already found, a moment later on any the look it starts
     * finds, and on any recorded later within a sweep interval (the shards' watch). Returns those
     * of this process's own shards.
     */
    start(options: WorkerOptions): Worker[] {
      const started = startOn(queues.shards, queues.shards.length, options);
      if (options.journeys !== false) {
        // One sweep for every shard, in shard 0's queue: it routes what it finds by customer.
        void queues.journeys
          .upsertJobScheduler(SWEEP_SCHEDULER, { every: deps.sweepIntervalMs }, { name: 'sweep', data: {} })
          .catch((err: unknown) => logger.error({ err }, 'could not schedule the inbox sweep'));
      }
      workers.push(...started, ...startOn(shards.beyond, shards.current.shards.length, options));
      roles.push(options);
      shards.watch();
      deps.loadedJourneys.watch();
      return started;
    },

    /** Starts no more workers, also on shards a read of the record in flight finds. */
    settle(): void {
      closing = true;
    },
  };
}

export type WorkerPool = ReturnType<typeof createWorkerPool>;
