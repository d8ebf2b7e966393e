import {
  allowAll,
  createDeliveryWorker,
  createEngine,
  loadTemplates,
  MessageRenderer,
  silentLogger,
  type Channel,
  type ChannelAdapter,
  type Clock,
  type DeliveryJobData,
  type DeliveryPolicy,
  type DeliveryWorkerOptions,
  type Engine,
  type LinkTracking,
  type RedisConnection,
} from '../../engine/index.js';
import { MESSAGE_FOR } from './channel-journeys.js';
import { eventually } from './redis.js';

const templates = loadTemplates('templates');

/** After this long without renewing its lock, a run's job is given to another run. */
export const TEST_LOCK_MS = 500;
/** A claim this old, by the worker's clock, belongs to a run that died. */
export const TEST_CLAIM_STALE_MS = 300;

/**
 * A delivery worker of `channel` as the engine would start it, on the engine's first shard, with
 * the project's templates and short timings. Webhook sends go to `webhookUrl`.
 */
export function startTestDeliveryWorker(
  engine: Engine,
  connection: RedisConnection,
  channel: Channel,
  input: {
    adapters: Partial<Record<Channel, ChannelAdapter>>;
    clock: Clock;
    policy?: DeliveryPolicy;
    webhookUrl?: string;
    tracking?: LinkTracking;
    /** Beyond the short timings below. */
    options?: Partial<DeliveryWorkerOptions>;
  },
) {
  return createDeliveryWorker(
    channel,
    {
      store: engine.store,
      renderer: new MessageRenderer(templates),
      messages: {
        get: (id) => {
          const message = templates.message(id);
          return message && { ...message, webhook: { url: input.webhookUrl ?? 'http://127.0.0.1:9/hook' } };
        },
      },
      adapters: input.adapters,
      policy: input.policy ?? allowAll,
      clock: input.clock,
      logger: silentLogger,
      unsubscribe: { baseUrl: 'https://chorus.test', secret: 'test-secret-of-sixteen' },
      defaults: { locale: 'en-US', timezone: 'UTC' },
      ...(input.tracking ? { tracking: input.tracking } : {}),
    },
    {
      connection,
      shard: engine.queues.shards[0]!,
      lockMs: TEST_LOCK_MS,
      claimStaleMs: TEST_CLAIM_STALE_MS,
      retry: { baseMs: 20, maxMs: 100 },
      ...input.options,
    },
  );
}

/** Ada's send of the project's message for `channel`, falling back along `channels`. */
export function adaJob(
  channel: Exclude<Channel, 'in-app'>,
  at: number,
  channels: Channel[] = [channel],
): DeliveryJobData {
  return {
    v: 1,
    type: 'send',
    opId: `s-ada-ping-${channel}-1`,
    customerId: 'ada',
    journeyId: `ping-${channel}`,
    journeyVersion: 1,
    instanceId: 'ping-1',
    state: 'sent',
    stage: 'consideration',
    message: MESSAGE_FOR[channel],
    channels,
    channel,
    variants: {},
    trigger: {},
    data: {},
    event: { name: `Ping ${channel}`, properties: {} },
    at,
  };
}

/**
 * An engine with no journeys and no delivery workers (a test starts the ones it needs, see
 * startTestDeliveryWorker), with Ada identified by the phone and name the tests' sends use.
 */
export async function engineWithAda(ctx: { redis: RedisConnection; prefix: string }): Promise<Engine> {
  const engine = createEngine({
    redis: ctx.redis,
    prefix: ctx.prefix,
    journeys: [],
    messages: { has: (id) => templates.message(id) !== undefined },
  });
  // The profile is written by the journey worker applying the identify.
  engine.startWorkers({ deliveries: false });
  await engine.identify({ userId: 'ada', traits: { firstName: 'Ada', phone: '+15550100' } });
  await eventually(async () => (await engine.store.profile('ada')).phone === '+15550100');
  return engine;
}
