// Process plumbing shared by the entry points beside it: reads the environment, connects to
// Redis, builds the engine, starts workers and shuts down cleanly on SIGTERM, SIGINT or SIGHUP.
import { constants as osConstants } from 'node:os';
import { resolve } from 'node:path';
import { pino } from 'pino';
import {
  ChorusError,
  CliUsageError,
  ConfigError,
  folderProblem,
  createChannelAdapters,
  createEngine,
  loadTemplates,
  MessageRenderer,
  loadConfig,
  logConnectionErrors,
  respectfulSending,
  loadJourneyFolder,
  resolveRedis,
  connectRedis,
  describeRedisTarget,
  redisReady,
  evictionPolicyProblem,
  quietBullmqEvictionWarnings,
  redisTargetOf,
  REDIS_ANSWER_WITHIN_MS,
  trackingSecret,
  type ChannelSetup,
  type Engine,
  type EnvConfig,
  type Logger,
  type RedisConnection,
  type RedisTarget,
  withoutCredentials,
} from '../engine/index.js';
import { startApiServer, type ApiServer } from './api-server.js';
import {
  logMadeUpSecrets,
  madeUpSharing,
  resolveSecrets,
  warnUnsetUnsubscribeSecret,
  type ProcessSecrets,
} from './process-secrets.js';
import { settlesWithin } from '../engine/settles-within.js';

export interface ProcessOptions {
  /**
   * Start a private redis-server when neither REDIS_URL nor REDIS_CLUSTER_NODES is set and none
   * answers locally (npm start).
   */
  embeddedRedis: boolean;
  /** Print a summary for a person at the terminal. */
  banner: boolean;
  /** Serve the HTTP API and dashboard. */
  api: boolean;
  /** Run the workers named by WORKER_ROLES. */
  workers: boolean;
  /**
   * Runs once the process has stopped, by `stop()` or by a signal (before it exits): what the
   * caller must clean up whichever way the run ends.
   */
  afterStop?: (stopped: StoppedProcess) => Promise<void>;
}

/** What `afterStop` is told of the process that stopped. */
export interface StoppedProcess {
  config: Readonly<EnvConfig>;
  redisTarget: RedisTarget;
  /** The Redis was a private redis-server, deleted with the process. */
  embeddedRedis: boolean;
}

export interface RunningProcess {
  config: Readonly<EnvConfig>;
  engine: Engine;
  redisTarget: RedisTarget;
  /** The Redis is a private redis-server that `stop()` deletes. */
  embeddedRedis: boolean;
  api?: ApiServer;
  stop(): Promise<void>;
}

/**
 * JOURNEYS_DIR and TEMPLATES_DIR must name folders. Both are read relative to the folder the
 * process starts in, and a missing one would otherwise stop it with a bare ENOENT stack
 * (journeys) or with every message the journeys send reported missing from templates/ (templates).
 */
export function requireFolders(config: Pick<EnvConfig, 'JOURNEYS_DIR' | 'TEMPLATES_DIR'>): void {
  const missing = (['JOURNEYS_DIR', 'TEMPLATES_DIR'] as const).flatMap((name) => {
    const problem = folderProblem(config[name]);
    return problem ? [{ name, message: `the folder ${config[name]} ${problem}` }] : [];
  });
  if (missing.length > 0) throw new ConfigError(missing);
}

/**
 * How long a stop may run past SHUTDOWN_DEADLINE_MS before the process goes without Redis: the
 * engine's hand-back of jobs cut short (a second) and the closes after it.
 */
const STOP_GRACE_MS = 2_000;

/** How long start-up may still take, once a signal came, before what it wrote is abandoned. */
const START_UP_GRACE_MS = 5_000;

const exitForSignal = (signal: NodeJS.Signals) => process.exit(128 + osConstants.signals[signal]);

/** The stop signals while `runProcess` starts up: see {@link signalsDuringStartUp}. */
interface StartUpSignals {
  /**
   * From now on start-up writes what `afterStop` removes: a signal is held until start-up is
   * done, which then stops at once. `abandon` runs instead if start-up is still not done
   * START_UP_GRACE_MS after the signal (a Redis that stopped answering).
   */
  hold(abandon: () => Promise<void>): void;
  /** Removes the handlers, once `runProcess` has its own, and returns the signal held, if any. */
  done(): NodeJS.Signals | undefined;
}

/**
 * The signals that stop the process cleanly: Ctrl-C, a service manager's stop, and the hangup of
 * a closed terminal (whose default action would kill the process outright, and with it the jobs
 * it was running; the private redis-server, which ignores SIGHUP, would run on with its data).
 */
const STOP_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

/**
 * Until start-up is done, the stop signals end the process through its `exit` event, with the
 * shell's status for the signal (128 + its number). With no handler, a signal kills the process
 * without that event, and the private redis-server it started, which that event stops, would
 * outlive it. Once start-up holds signals (see `hold`), exiting at once would skip `afterStop`
 * and leave what start-up wrote (a demo's development secrets, its workers' keys) in Redis.
 */
export function signalsDuringStartUp(): StartUpSignals {
  let abandon: (() => Promise<void>) | undefined;
  let held: NodeJS.Signals | undefined;
  // Cleared once start-up is done: from then on its own stop() cleans up, and an abandon firing
  // in the middle of it would run afterStop a second time, beside the workers, and exit under them.
  let grace: NodeJS.Timeout | undefined;
  const handlers = STOP_SIGNALS.map((signal) => {
    const handler = () => {
      if (!abandon) exitForSignal(signal);
      // Under npm one Ctrl-C arrives twice: the first is the one acted on.
      if (held || !abandon) return;
      held = signal;
      const exit = () => exitForSignal(signal);
      grace = setTimeout(() => {
        setTimeout(exit, START_UP_GRACE_MS).unref();
        abandon!().then(exit, exit);
      }, START_UP_GRACE_MS).unref();
    };
    process.on(signal, handler);
    return () => process.off(signal, handler);
  });
  return {
    hold(cleanUp) {
      abandon = cleanUp;
    },
    done() {
      handlers.forEach((remove) => remove());
      clearTimeout(grace);
      return held;
    },
  };
}

export async function runProcess(options: ProcessOptions): Promise<RunningProcess> {
  const startingUp = signalsDuringStartUp();
  const config = loadConfig();
  requireFolders(config);
  // A worker without the API beside it cannot know the port PORT=0 will pick.
  const deliveries = options.workers && config.WORKER_ROLES.includes('deliveries');
  if (!options.api && deliveries && config.PORT === 0 && config.PUBLIC_URL === undefined)
    throw new ConfigError([
      {
        name: 'PUBLIC_URL',
        message:
          'unset, and PORT=0 names no port for the links a delivery worker makes to lead to; set PUBLIC_URL to where the API is reached',
      },
    ]);
  // Real email in production: without PUBLIC_URL every unsubscribe link (the footer's and the
  // one-click List-Unsubscribe header's) would lead to localhost, which no recipient can reach,
  // and mailbox providers ask bulk senders for a working one-click unsubscribe.
  if (deliveries && config.SMTP_URL && config.PUBLIC_URL === undefined && config.NODE_ENV === 'production')
    throw new ConfigError([
      {
        name: 'PUBLIC_URL',
        message: `unset while SMTP_URL sends email: every email's unsubscribe link would lead to http://localhost:${config.PORT}, which no recipient can reach; set PUBLIC_URL to the https URL where the API is reached`,
      },
    ]);
  const logger = pino({ level: config.LOG_LEVEL });
  const resolved =
    options.embeddedRedis && !config.REDIS_CLUSTER_NODES
      ? await resolveRedis({ url: config.REDIS_URL, logger })
      : { url: undefined, embedded: false, stop: async () => {} };
  const target = redisTargetOf(config, resolved.url);
  // maxRetriesPerRequest: null is what BullMQ workers require: commands wait for a reconnect.
  const redis = connectRedis(target, { maxRetriesPerRequest: null });
  logConnectionErrors(redis, logger, 'redis connection');
  // Before anything uses it: a wrong password ends start-up with the fix, not in retries forever.
  await redisReady(redis, { where: describeRedisTarget(target), timeoutMs: REDIS_ANSWER_WITHIN_MS });
  await warnOfEviction(redis, logger);
  const { afterStop } = options;
  // From here start-up writes to Redis, the development secrets first.
  if (afterStop)
    startingUp.hold(() => afterStop({ config, redisTarget: target, embeddedRedis: resolved.embedded }));
  const { journeys, webhookSources } = await loadJourneyFolder(config.JOURNEYS_DIR);
  // Templates are checked against the journeys that send them before anything starts.
  // An SMS is counted as sent: with links tracked, each brand link at its short link's length.
  // Before listening, PORT=0 names no port yet: the few characters of one make no part.
  const trackedSmsLinks = { baseUrl: config.PUBLIC_URL ?? `http://localhost:${config.PORT}` };
  const templates = loadTemplates(config.TEMPLATES_DIR, {
    journeys,
    ...(config.TRACK_LINKS ? { trackedSmsLinks } : {}),
  });
  const messages = templates.catalog;
  // One for the workers' sends and the API's tracked links: which links are the brand's.
  const renderer = new MessageRenderer(templates, { brandLinkHosts: config.BRAND_LINK_HOSTS });
  // After the connection, before anything signs or checks a link: in development the secrets
  // not configured are read from (or first written to) Redis.
  const secrets = await resolveSecrets(config, webhookSources, { api: options.api }, redis);
  const unsubscribeSecret = secrets.unsubscribeSecret;
  if (secrets.generated.UNSUBSCRIBE_SECRET)
    warnUnsetUnsubscribeSecret(logger, secrets, config.REDIS_PREFIX, resolved.embedded);
  // The API first: a port already taken ends start-up before any worker has taken a job, which
  // the exit would cut short. Unset, PUBLIC_URL is the port the API listens on (PORT=0 picks one).
  const api = options.api
    ? await startApiServer({
        config,
        redisTarget: target,
        logger,
        journeys,
        messages,
        webhookSources,
        secrets,
        brandLink: (messageId, url) => renderer.isBrandLink(messageId, url),
      })
    : undefined;
  const publicUrl = config.PUBLIC_URL ?? `http://localhost:${api?.port ?? config.PORT}`;
  if (
    !publicUrl.startsWith('https://') &&
    (config.PUBLIC_URL || config.NODE_ENV === 'production' || (deliveries && config.SMTP_URL))
  )
    logger.warn(
      { PUBLIC_URL: publicUrl },
      'PUBLIC_URL is not https: mail clients only offer one-click unsubscribe (RFC 8058) for https links',
    );
  const engine = createEngine({
    redis,
    prefix: config.REDIS_PREFIX,
    journeys,
    messages,
    timeScale: config.TIME_SCALE,
    lockMs: config.LOCK_DURATION_MS,
    keepFinishedInstances: config.KEEP_FINISHED_INSTANCES,
    maxCallBytes: config.MAX_CALL_BYTES,
    delivery: {
      renderer,
      messages,
      adapters: createChannelAdapters({
        redis,
        prefix: config.REDIS_PREFIX,
        outboxDir: config.OUTBOX_DIR,
        mailFrom: config.MAIL_FROM,
        inAppTtlMs: config.IN_APP_TTL,
        smtpUrl: config.SMTP_URL,
        smtpPool: { maxConnections: config.SMTP_MAX_CONNECTIONS, maxMessages: config.SMTP_MAX_MESSAGES },
        dkim:
          config.DKIM_DOMAIN && config.DKIM_SELECTOR && config.DKIM_PRIVATE_KEY
            ? {
                domainName: config.DKIM_DOMAIN,
                keySelector: config.DKIM_SELECTOR,
                privateKey: config.DKIM_PRIVATE_KEY,
              }
            : undefined,
        twilio:
          config.TWILIO_ACCOUNT_SID && config.TWILIO_AUTH_TOKEN && config.SMS_FROM
            ? {
                baseUrl: config.TWILIO_BASE_URL,
                accountSid: config.TWILIO_ACCOUNT_SID,
                authToken: config.TWILIO_AUTH_TOKEN,
                from: config.SMS_FROM,
              }
            : undefined,
        fcm: fcmSetup(config),
        webhook: config.WEBHOOK_SECRET
          ? { secret: config.WEBHOOK_SECRET, allowPrivateTargets: config.WEBHOOK_ALLOW_PRIVATE }
          : undefined,
        logger,
      }),
      unsubscribe: { baseUrl: publicUrl, secret: unsubscribeSecret },
      tracking: {
        baseUrl: publicUrl,
        secret: trackingSecret(unsubscribeSecret),
        links: config.TRACK_LINKS,
        opens: config.TRACK_OPENS,
        shortLinkDays: config.SMS_SHORT_LINK_DAYS,
      },
      defaults: { locale: config.DEFAULT_LOCALE, timezone: config.DEFAULT_TIMEZONE },
      timing: respectfulSending({
        redis,
        prefix: config.REDIS_PREFIX,
        caps: config.FREQUENCY_CAPS,
        quietHours: config.QUIET_HOURS,
        defaultTimezone: config.DEFAULT_TIMEZONE,
      }),
      retry: { baseMs: 1_000, maxMs: config.DELIVERY_RETRY_MAX_MS },
      limits: {
        ...(config.RATE_LIMIT_EMAIL ? { email: config.RATE_LIMIT_EMAIL } : {}),
        ...(config.RATE_LIMIT_SMS ? { sms: config.RATE_LIMIT_SMS } : {}),
        ...(config.RATE_LIMIT_PUSH ? { push: config.RATE_LIMIT_PUSH } : {}),
        ...(config.RATE_LIMIT_IN_APP ? { 'in-app': config.RATE_LIMIT_IN_APP } : {}),
        ...(config.RATE_LIMIT_WEBHOOK ? { webhook: config.RATE_LIMIT_WEBHOOK } : {}),
      },
    },
    consent: { doubleOptIn: config.DOUBLE_OPT_IN },
    sweepIntervalMs: config.SWEEP_INTERVAL_MS,
    queueShards: config.QUEUE_SHARDS,
    logger,
  });
  if (options.workers)
    engine.startWorkers({
      journeys: config.WORKER_ROLES.includes('journeys'),
      deliveries: config.WORKER_ROLES.includes('deliveries'),
      journeyConcurrency: config.JOURNEY_CONCURRENCY,
      deliveryConcurrency: config.DELIVERY_CONCURRENCY,
    });
  logger.info(
    {
      redis: describeRedisTarget(target),
      embeddedRedis: resolved.embedded,
      prefix: config.REDIS_PREFIX,
      roles: [...(options.api ? ['api'] : []), ...(options.workers ? config.WORKER_ROLES : [])],
      api: api?.url,
      timeScale: config.TIME_SCALE,
      journeys: engine.catalog.list().map((j) => `${j.id}@${j.version}`),
    },
    'chorus engine started',
  );
  if (options.banner)
    printBanner({ engine, redisTarget: target, embedded: resolved.embedded, config, api, secrets });
  else if (api) logMadeUpSecrets(logger, secrets, config.REDIS_PREFIX);

  let stopping: Promise<void> | undefined;
  const stop = () =>
    (stopping ??= (async () => {
      logger.info({ deadlineMs: config.SHUTDOWN_DEADLINE_MS }, 'shutting down: finishing active jobs');
      // The API stops taking requests first, so nothing is accepted that a worker will not see.
      // One deadline for both: the requests in flight and the jobs share SHUTDOWN_DEADLINE_MS.
      const deadline = Date.now() + config.SHUTDOWN_DEADLINE_MS;
      try {
        const closing = (async () => {
          await api?.close(config.SHUTDOWN_DEADLINE_MS);
          await engine.close(Math.max(0, deadline - Date.now()));
          await redis.quit().catch(() => redis.disconnect());
        })();
        // A Redis that stops answering (a network partition) would hold each close and the QUIT
        // until it answers again, for as long as the partition lasts. Past the deadline and the
        // engine's hand-back, the process goes without it: the jobs it still held are re-run by
        // other workers once their locks expire, as after a crash.
        if (!(await settlesWithin(closing, config.SHUTDOWN_DEADLINE_MS + STOP_GRACE_MS))) {
          logger.warn(
            { redis: describeRedisTarget(target), deadlineMs: config.SHUTDOWN_DEADLINE_MS },
            'Redis did not answer while shutting down: stopped without it; jobs still running are re-run elsewhere once their locks expire',
          );
          redis.disconnect();
        }
        await resolved.stop();
      } finally {
        // Also after a stop that failed part-way: what it cleans up must not stay behind.
        await afterStop?.({ config, redisTarget: target, embeddedRedis: resolved.embedded });
      }
      logger.info({}, 'stopped');
    })());
  const interrupted = startingUp.done();
  // `on`, not `once`: under `npm start` one Ctrl-C arrives twice (from the terminal, and again
  // forwarded by npm), and a repeat with no listener left would kill the process mid-shutdown.
  // A repeat joins the shutdown under way; SHUTDOWN_DEADLINE_MS bounds it.
  for (const signal of STOP_SIGNALS) {
    process.on(signal, () => {
      stop().then(
        () => process.exit(0),
        (err: unknown) => {
          logger.error({ err }, 'shutdown failed');
          process.exit(1);
        },
      );
    });
  }
  if (interrupted) {
    // Stopped while it started: nothing more runs, and `afterStop` cleans up as after a run.
    await stop().catch((err: unknown) => logger.error({ err }, 'shutdown failed'));
    exitForSignal(interrupted);
  }
  return {
    config,
    engine,
    redisTarget: target,
    embeddedRedis: resolved.embedded,
    ...(api ? { api } : {}),
    stop,
  };
}

/** FCM from the environment: a service account key, else a fixed token; `loadConfig` checked the pairing. */
function fcmSetup(config: Readonly<EnvConfig>): ChannelSetup['fcm'] {
  const serviceAccount = config.FCM_SERVICE_ACCOUNT_FILE ?? config.FCM_SERVICE_ACCOUNT_JSON;
  if (serviceAccount) {
    return { baseUrl: config.FCM_BASE_URL, projectId: config.FCM_PROJECT_ID, serviceAccount };
  }
  if (config.FCM_ACCESS_TOKEN && config.FCM_PROJECT_ID) {
    return {
      baseUrl: config.FCM_BASE_URL,
      projectId: config.FCM_PROJECT_ID,
      accessToken: config.FCM_ACCESS_TOKEN,
    };
  }
  return undefined;
}

function printBanner(input: {
  engine: Engine;
  redisTarget: RedisTarget;
  embedded: boolean;
  config: Readonly<EnvConfig>;
  api: ApiServer | undefined;
  secrets: ProcessSecrets;
}): void {
  const { engine, redisTarget, embedded, config, api, secrets } = input;
  const journeys = engine.catalog.list().map((j) => `${j.id}@${j.version}`);
  // Only what was made up is printed: a configured secret is known already, and a terminal's
  // output is often kept (`docker run -t` hands it to the container's log).
  const key = secrets.generated.API_KEY ?? '$API_KEY';
  const madeUp = [...new Set(Object.keys(secrets.generated).map((name) => name.split(' ')[0]))];
  const lines = [
    '',
    'Chorus is running.',
    `  Redis:      ${describeRedisTarget(redisTarget)}${embedded ? ' (private redis-server, stops with this process)' : ''}`,
    `  Journeys:   ${journeys.join(', ') || `(none in ${config.JOURNEYS_DIR}/)`}`,
    `  Workers:    ${config.WORKER_ROLES.join(', ')}; TIME_SCALE=${config.TIME_SCALE}`,
    `  Email:      ${config.SMTP_URL ? withoutCredentials(config.SMTP_URL) : `.eml files in ${resolve(config.OUTBOX_DIR, 'email')}`}`,
  ];
  if (api) {
    lines.push(
      `  API:        ${api.url}/v1  (docs: ${api.url}/docs)`,
      `  API key:    ${secrets.generated.API_KEY ? `${key}  (made up: set API_KEY to choose one)` : 'set by API_KEY'}`,
      `  Dashboard:  ${api.url}/admin/queues  user ${config.DASHBOARD_USER}, password ${secrets.generated.DASHBOARD_PASSWORD ? `${secrets.generated.DASHBOARD_PASSWORD} (made up)` : 'set by DASHBOARD_PASSWORD'}`,
      ...Object.entries(secrets.generated)
        .filter(([name]) => name.startsWith('WEBHOOK_SOURCE_SECRETS'))
        .map(([name, secret]) => `  ${name}: ${secret}`),
      ...(madeUp.length > 0
        ? [`  Made up:    ${madeUp.join(', ')}, ${madeUpSharing(secrets, config.REDIS_PREFIX)}`]
        : []),
      '',
      'Send events:',
      `  curl -X POST ${api.url}/v1/identify -H "Authorization: Bearer ${key}" -H 'Content-Type: application/json' \\`,
      `       -d '{"userId":"ada","traits":{"firstName":"Ada","email":"ada@example.com"}}'`,
      `  curl -X POST ${api.url}/v1/track -H "Authorization: Bearer ${key}" -H 'Content-Type: application/json' \\`,
      `       -d '{"userId":"ada","event":"Signed Up","properties":{"plan":"pro"}}'`,
      `  curl ${api.url}/v1/customers/ada -H "Authorization: Bearer ${key}"`,
    );
  }
  lines.push('', 'Ctrl-C stops it (active jobs finish first).', '');
  process.stdout.write(lines.join('\n') + '\n');
}

/**
 * Runs `main`, printing a ChorusError's message (which says how to fix it) instead of a stack.
 * A command line that was not understood exits 2, as the `chorus` CLI's does, so scripts can
 * tell it from a failed run.
 */
export function runMain(main: () => Promise<unknown>): void {
  main().catch((error: unknown) => {
    if (error instanceof ChorusError) process.stderr.write(`${error.code}: ${error.message}\n`);
    else process.stderr.write(`${(error as Error).stack ?? String(error)}\n`);
    process.exit(error instanceof CliUsageError ? 2 : 1);
  });
}

/**
 * Says once, with the fix, that Redis may evict keys, and then keeps BullMQ from saying it again
 * for each of its connections. Not fatal: a development Redis often runs with another policy, and
 * `/readyz` answers 503 while it does.
 */
async function warnOfEviction(redis: RedisConnection, logger: Logger): Promise<void> {
  const problem = await evictionPolicyProblem(redis).catch(() => undefined);
  if (problem === undefined) return;
  logger.warn({ problem }, 'Redis may evict keys');
  quietBullmqEvictionWarnings();
}
