// The public API of the Chorus engine: everything a journey author, a worker entry point or a
// test may use is listed here by name.

export { ChorusError } from './errors.js';
export { type Clock, FakeClock, systemClock } from './clock.js';
export { parseDuration, InvalidDurationError, type DurationInput } from './duration.js';

export { STAGES, isStage, type Stage } from './journey/stage.js';
export { CHANNELS, Channel, ReentryPolicy } from './journey/journey-schema.js';
export {
  defineJourney,
  isJourney,
  JourneyDefinitionError,
  type Journey,
  type DelayKey,
  type JourneyBuilder,
  type JourneyContext,
  type JourneyDefinition,
  type JourneyEvent,
  type SendParams,
  type SplitArm,
} from './journey/define-journey.js';
export { assignVariant, type SplitWeights } from './journey/split.js';
export { validateJourney, type JourneyProblem, type MessageCatalog } from './journey/validate-journey.js';
export { JourneyCatalog, JourneyNotFoundError, JourneyValidationError } from './journey/journey-catalog.js';
export { CoreMessage, CoreMessageCatalog, MessageDefinitionError } from './messages/message-catalog.js';

export { applyEvent, type StepResult } from './runtime/apply-event.js';
export { CustomerEvent } from './runtime/customer-event.js';
export type { Command, Note, SendCommand, ScheduleCommand, CancelCommand } from './runtime/command.js';
export type { CustomerState, InstanceRecord } from './runtime/instance-record.js';

export {
  createJourneyHarness,
  type JourneyHarness,
  type JourneyHarnessOptions,
  type HarnessInstance,
  type HarnessSend,
} from './harness/journey-harness.js';

export { resolveRedis, type ResolveRedisOptions, type ResolvedRedis } from './redis/embedded-redis.js';
export { RedisUnavailableError } from './redis/errors.js';

export {
  createEngine,
  type Engine,
  type EngineOptions,
  type IngestResult,
  type WorkerOptions,
} from './engine.js';
export {
  TrackInput,
  IdentifyInput,
  TriggerInput,
  InvalidInputError,
  type FieldIssue,
} from './ingest/ingest-schema.js';
export { CustomerStore, LeaseLostError, type CustomerStoreOptions } from './store/customer-store.js';
export { customerKeys } from './store/customer-keys.js';
export { drainCustomer, type DrainDependencies } from './runtime/drain-customer.js';
export { CommandExecutor, type DeliveryJobData, type TimerJobData } from './runtime/command-executor.js';
export { createJourneyWorker, type JourneyWorkerOptions } from './runtime/journey-worker.js';
export { createDeliveryWorker, type DeliveryWorkerOptions } from './runtime/delivery-worker.js';
export { createQueues, queuePrefix, JOURNEY_QUEUE, DELIVERY_QUEUE, type Queues } from './runtime/queues.js';
export { customerToken, drainJobId, sendOpId, timerJobId } from './runtime/ids.js';
export { silentLogger, type Logger } from './logger.js';
export { loadJourneysFromDirectory } from './journey/load-journeys.js';
export { loadConfig, EnvConfig, ConfigError } from './config.js';
export { sweepStrandedInboxes } from './runtime/inbox-sweeper.js';
