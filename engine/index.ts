// The public API of the Chorus engine: everything a journey author, a worker entry point or a
// test may use is listed here by name.

export { ChorusError } from './errors.js';
export { type Clock, FakeClock, systemClock } from './clock.js';
export { parseDuration, InvalidDurationError, type DurationInput } from './duration.js';
export { decimalNumber } from './decimal-number.js';
export {
  customerTimeZone,
  inLocalWindow,
  isTimeZone,
  nextLocalTime,
  parseLocalTime,
  type LocalTime,
  type LocalWindow,
} from './local-time.js';

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
  type SendOptions,
  type SendParams,
  type SplitArm,
  type SplitOptions,
} from './journey/define-journey.js';
export type { LocalTimeDelay } from './journey/machine-walk.js';
export { assignVariant, type SplitWeights } from './journey/split.js';
export { validateJourney, type JourneyProblem, type MessageCatalog } from './journey/validate-journey.js';
export { Revenue } from './journey/revenue.js';
export {
  JourneyCatalog,
  JourneyNotFoundError,
  JourneyValidationError,
  type JourneyCatalogOptions,
  type JourneyLookup,
} from './journey/journey-catalog.js';
export {
  CoreMessage,
  CoreMessageCatalog,
  MessageDefinitionError,
  messageFields,
  PushOptions,
} from './messages/message-catalog.js';

export { applyEvent, type StepResult } from './runtime/apply-event.js';
export { CustomerEvent } from './runtime/customer-event.js';
export type {
  Command,
  Note,
  SendCommand,
  ScheduleCommand,
  CancelCommand,
  WhenCapped,
} from './runtime/command.js';
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
export { redisReady, REDIS_ANSWER_WITHIN_MS, type RedisReadyOptions } from './redis/redis-ready.js';
export { redisAnswering } from './redis/redis-answering.js';
export { evictionPolicyProblem, quietBullmqEvictionWarnings } from './redis/eviction-policy.js';

export {
  createEngine,
  DeliveryNotConfiguredError,
  type DeliveryOptions,
  type Engine,
  type EngineOptions,
  type IngestOptions,
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
export { DEFAULT_MAX_CALL_BYTES } from './ingest/call-size.js';
export { CustomerStore, LeaseLostError, type CustomerStoreOptions } from './store/customer-store.js';
export { NewerVersionError } from './runtime/newer-version.js';
export { customerKeys } from './store/customer-keys.js';
export { drainCustomer, MISSING_JOURNEY_GRACE_MS, type DrainDependencies } from './runtime/drain-customer.js';
export { CommandExecutor } from './runtime/command-executor.js';
export {
  TIMER_JOB,
  timerEvent,
  type TimerJobData,
  type TimerJobDataV1,
  type TimerJobDataV2,
} from './runtime/timer-job.js';
export { DRAIN_JOB, DRAIN_JOB_VERSION, type DrainJobData } from './runtime/drain-job.js';
export { createJourneyWorker, type JourneyWorkerOptions } from './runtime/journey-worker.js';
export { createDeliveryWorker, type DeliveryWorkerOptions } from './delivery/delivery-worker.js';
export type { DeliveryDependencies, Renderer } from './delivery/delivery-dependencies.js';
export { deliveryQueueName, type DeliveryJobData } from './delivery/delivery-job.js';
export type { DeliveryOutcome } from './delivery/delivery-ledger.js';
export {
  allowAll,
  type DeliveryPolicy,
  type PolicyDecision,
  type PolicyInput,
} from './delivery/delivery-policy.js';
export { Topic, ConsentChannel, topicOf } from './policy/topic.js';
export { chainPolicies, type PolicyRule } from './policy/policy-chain.js';
export { createDefaultPolicy, type DefaultPolicyOptions } from './policy/default-policy.js';
export { consentRule } from './policy/consent-rule.js';
export { defaultConsent } from './policy/consent-defaults.js';
export { suppressionRule } from './policy/suppression-rule.js';
export { ConsentRecord, ConsentAnswer, ConsentTrait } from './policy/consent-record.js';
export { ConsentStore } from './policy/consent-store.js';
export {
  createConsentService,
  CONSENT_REQUESTED_EVENT,
  CONSENT_CONFIRMED_EVENT,
  type ConsentService,
  type ConfirmLinkOptions,
  type ConsentOptions,
  type ConsentChange,
} from './policy/consent-service.js';
export {
  createConsentToken,
  verifyConsentToken,
  consentConfirmUrl,
  type ConsentClaim,
} from './policy/consent-token.js';
export {
  SuppressionList,
  SuppressionEntry,
  SuppressionReason,
  normaliseAddress,
  type SuppressedAddress,
} from './policy/suppression-list.js';
export { countDecision, policyCountsKey } from './policy/policy-counts.js';
export { DoubleOptInNotConfiguredError, PolicyConfigError } from './policy/errors.js';
export { frequencyCaps, DEFAULT_WHEN_CAPPED, type FrequencyCapOptions } from './policy/frequency-cap.js';
export { FrequencyCapRules, type FrequencyCapRule } from './policy/cap-rules.js';
export { INTERRUPTING_CHANNELS } from './policy/interrupting-channels.js';
export { quietHours, QuietHoursWindow, type QuietHoursOptions } from './policy/quiet-hours.js';
export { respectfulSending, type RespectfulSendingOptions } from './policy/respectful-sending.js';
export { resolveAddress } from './delivery/address.js';
export { retryDelay } from './delivery/backoff.js';
export {
  createUnsubscribeToken,
  verifyUnsubscribeToken,
  unsubscribeUrl,
  type UnsubscribeClaim,
} from './delivery/unsubscribe-token.js';
export type { Address, ChannelAdapter, Delivery, DeliveryResult } from './channels/channel-adapter.js';
export type { RenderContext, RenderedMessage, RenderedFor } from './messages/rendered-message.js';
export {
  allQueues,
  createQueues,
  engineKeyPatterns,
  queuePrefix,
  JOURNEY_QUEUE,
  type Queues,
  type QueueShard,
} from './runtime/queues.js';
export { MAX_QUEUE_SHARDS, QueueShardsError, shardOf } from './runtime/queue-shards.js';
export { EngineTimingError, type TimingOption } from './runtime/engine-timing.js';
export { RecordedShards, type ShardsFound } from './runtime/recorded-shards.js';
export {
  JOURNEY_REMOVED,
  LoadedJourneys,
  loadedJourneysKey,
  missingJourneysKey,
  type JourneyAbsence,
  type JourneyLoad,
} from './runtime/loaded-journeys.js';
export { customerToken, drainJobId, sendOpId, timerJobId } from './runtime/ids.js';
export { silentLogger, type Logger } from './logger.js';
export { loadJourneysFromDirectory } from './journey/load-journeys.js';
export { loadConfig, EnvConfig, ConfigError, redisTargetOf, type EnvVariable } from './config.js';
export { folderProblem } from './folder-problem.js';
export { sweepStrandedInboxes } from './runtime/inbox-sweeper.js';

export { TemplateSet, CHANNEL_TEMPLATES, type TemplateField } from './messages/template-set.js';
export {
  loadTemplates,
  checkTemplates,
  checkTemplatesForJourneys,
  TemplateValidationError,
  type TemplateProblem,
  type TemplateCheckOptions,
  type LoadTemplatesOptions,
} from './messages/template-checks.js';
export {
  MessageRenderer,
  MessageRenderError,
  type MessageRendererOptions,
} from './messages/message-renderer.js';
export { withUtm, variantLabel, type UtmParams } from './messages/utm.js';
export { BrandHosts, BrandLinkHost, BrandLinkHosts, BrandLinkHostsError } from './messages/brand-hosts.js';
export { smsSegments, type SmsEncoding, type SmsSegmentCount } from './messages/sms-segments.js';
export { PUSH_PAYLOAD_LIMIT, pushPayloadBytes } from './messages/push-payload.js';
export { htmlToText } from './messages/html-to-text.js';

export { createChannelAdapters, type ChannelSetup } from './channels/default-adapters.js';
export {
  createEmailAdapter,
  DKIM_HEADER_FIELDS,
  type EmailAdapterOptions,
  type EmailDkimOptions,
} from './channels/email-adapter.js';
export { createOutboxAdapter, type OutboxAdapterOptions } from './channels/outbox-adapter.js';
export { createSmsAdapter, type SmsAdapterOptions } from './channels/sms-adapter.js';
export { createPushAdapter, type PushAdapterOptions } from './channels/push-adapter.js';
export { ServiceAccount } from './channels/service-account.js';
export {
  createInAppAdapter,
  dismissInAppMessage,
  readDismissedInApp,
  IN_APP_TTL_MS,
  readInAppInbox,
  markInAppRead,
  type DismissedInAppMessage,
  type InAppAdapterOptions,
  type InAppMessage,
} from './channels/in-app-adapter.js';
export {
  createInAppToken,
  checkInAppToken,
  DEFAULT_IN_APP_TOKEN_TTL_SECONDS,
  MAX_IN_APP_TOKEN_TTL_SECONDS,
  type InAppTokenCheck,
  type InAppTokenClaim,
  type InAppTokenOptions,
} from './channels/in-app-token.js';
export {
  createWebhookAdapter,
  type WebhookAdapterOptions,
  type WebhookEnvelope,
} from './channels/webhook-adapter.js';
export {
  signWebhook,
  webhookHeaders,
  verifyWebhook,
  generateWebhookSecret,
  type WebhookHeaders,
  type VerifyWebhookOptions,
} from './channels/standard-webhooks.js';
export { twilioSignature, isTwilioSignatureValid, type TwilioParams } from './channels/twilio-signature.js';
export { isAddressedToUs, type TwilioSenders } from './channels/twilio-senders.js';
export { smsKeyword, type SmsKeyword } from './channels/sms-keywords.js';
export { isPublicAddress } from './channels/public-address.js';
export { ChannelConfigError, WebhookVerificationError, type WebhookRejection } from './channels/errors.js';

export { createHttpApp } from './http/create-app.js';
export { DASHBOARD_PATH, JOURNEY_PAGES_PATH, publicPathPrefix } from './http/dashboard-paths.js';
export { API_REDIS_OPTIONS, DEFAULT_API_REDIS_TIMEOUT_MS } from './http/api-redis-options.js';
export type { HttpAppOptions } from './http/http-options.js';
export { TwilioSignatureError } from './http/routes/sms-inbound-routes.js';
export {
  defineWebhookSource,
  isWebhookSource,
  unknownWebhookSources,
  type WebhookSource,
  type AnyWebhookSource,
  type WebhookTrack,
} from './http/webhook-source.js';
export {
  HttpError,
  InAppTokenExpiredError,
  InAppTokenInvalidError,
  InAppTokenWrongCustomerError,
  NotFoundError,
  ServiceUnavailableError,
  UnauthorizedError,
} from './http/http-errors.js';
export { loadJourneyFolder, type JourneyFolder } from './journey/load-journeys.js';
// Erasure is engine.erase(userId) (or DELETE /v1/customers/:userId).
export { CustomerBusyError, type ErasureResult } from './store/customer-erasure.js';
export { CustomerJobIndex, type CustomerJob } from './store/customer-jobs.js';
export { readJourneyCounts, type JourneyCounts } from './store/journey-counts.js';
export { recountJourneys } from './store/journey-recount.js';
export { customersWithPhone, phoneIndexKey, rebuildPhoneIndex } from './store/phone-index.js';
export { scanKeys, scanEach, deleteKeysMatching, unlinkKeys } from './redis/scan-keys.js';
export {
  connectRedis,
  describeRedisTarget,
  isCluster,
  masterNodes,
  RedisClusterNodes,
  RedisUrl,
  withoutCredentials,
  type RedisConnection,
  type RedisTarget,
} from './redis/connection.js';
export { logConnectionErrors, type ConnectionErrorLogOptions } from './redis/connection-errors.js';

export { runCli, type CliIo } from './cli/run-cli.js';
export { CliUsageError, RepairRefusedError, SendTestError } from './cli/cli-errors.js';
export { validateProject, type ProjectProblem, type ProjectReport } from './cli/validate-project.js';
export { journeyToMermaid } from './cli/journey-graph.js';
export {
  simulateJourney,
  type SimulationOptions,
  type SimulationResult,
  type SimulationStep,
  type SimulatedSend,
} from './cli/simulate-journey.js';
export { SimulationScript } from './cli/simulation-script.js';
export { readConversions, type LoggedConversion } from './store/conversion-log.js';

export {
  attribute,
  ATTRIBUTION_MODELS,
  AttributionOptions,
  DEFAULT_HALF_LIFE_MS,
  type Attribution,
  type AttributionModel,
  type Conversion,
  type Touchpoint,
  type TouchpointCredit,
} from './analytics/attribution.js';
export {
  attributionTable,
  AttributionTableOptions,
  type AttributionTable,
  type ConversionPath,
  type CreditTotals,
  type ModelAttribution,
} from './analytics/attribution-table.js';
export {
  twoProportionTest,
  ProportionSample,
  type TwoProportionTest,
  type TwoProportionOptions,
  type ConfidenceInterval,
} from './analytics/significance.js';
export {
  experimentReport,
  ExperimentGroup,
  type ExperimentReport,
  type ExperimentReportOptions,
  type VariantResult,
  type Comparison,
} from './analytics/experiment-report.js';
export {
  Objective,
  parseObjective,
  objectiveProgress,
  type ObjectiveProgress,
} from './analytics/objective.js';
export {
  buildJourneyReport,
  checkReportPeriod,
  ATTRIBUTION_SAMPLE,
  MAX_REPORT_DAYS,
  type JourneyReport,
} from './analytics/journey-report.js';

export {
  createTrackingToken,
  verifyTrackingToken,
  trackingSecret,
  clickUrl,
  openUrl,
  type TrackedSend,
  type TrackingClaim,
} from './tracking/tracking-token.js';
export {
  trackRendered,
  untrackedIn,
  type LinkTracking,
  type TrackedLinks,
  type Untracked,
} from './tracking/track-links.js';
export {
  shortenSmsLinks,
  shortenTrackedLinks,
  storeShortLinks,
  resolveShortLink,
  shortLinkId,
  shortUrl,
  SHORT_LINK_ID_LENGTH,
  DEFAULT_SHORT_LINK_DAYS,
  type ShortLink,
  type StoreShortLinksOptions,
} from './tracking/short-links.js';
export {
  recordEngagement,
  TRACKED_SENDS_CAP,
  readEngagement,
  readSendEngagement,
  type EngagementKind,
  type EngagementEntry,
  type SendEngagement,
} from './tracking/engagement.js';
export {
  readDailyCounts,
  dailyCountsKey,
  InvalidDayRangeError,
  type DailyCount,
  type DailyMetric,
} from './tracking/daily-counts.js';
export {
  recordDeliveryReport,
  DeliveryReport,
  type DeliveryReportResult,
} from './tracking/delivery-report.js';
export { readDailyJourneyCounts, type DailyJourneyCounts } from './store/daily-journey-counts.js';
