// Process plumbing shared by the entry points beside it: reads the environment, connects to
// Redis, builds the engine, starts workers and shuts down cleanly on SIGTERM/SIGINT.
import { Redis } from 'ioredis';
import { pino } from 'pino';
import {
  ChorusError,
  CoreMessageCatalog,
  createEngine,
  loadConfig,
  loadJourneysFromDirectory,
  resolveRedis,
  type Engine,
  type EnvConfig,
} from '../engine/index.js';

export interface ProcessOptions {
  /** Start a private redis-server when REDIS_URL is unset and none answers locally (npm start). */
  embeddedRedis: boolean;
  /** Print a summary for a person at the terminal. */
  banner: boolean;
}

export interface RunningProcess {
  config: Readonly<EnvConfig>;
  engine: Engine;
  redisUrl: string;
  stop(): Promise<void>;
}

export async function runProcess(options: ProcessOptions): Promise<RunningProcess> {
  const config = loadConfig();
  const logger = pino({ level: config.LOG_LEVEL });
  const resolved = options.embeddedRedis
    ? await resolveRedis({ url: config.REDIS_URL, logger })
    : { url: config.REDIS_URL ?? 'redis://127.0.0.1:6379', embedded: false, stop: async () => {} };
  // maxRetriesPerRequest: null is what BullMQ workers require: commands wait for a reconnect.
  const redis = new Redis(resolved.url, { maxRetriesPerRequest: null });
  redis.on('error', (err) => logger.warn({ err: err.message }, 'redis connection error'));
  const journeys = await loadJourneysFromDirectory(config.JOURNEYS_DIR);
  const messages = CoreMessageCatalog.fromDirectory(config.TEMPLATES_DIR);
  const engine = createEngine({
    redis,
    prefix: config.REDIS_PREFIX,
    journeys,
    messages,
    timeScale: config.TIME_SCALE,
    lockMs: config.LOCK_DURATION_MS,
    sweepIntervalMs: config.SWEEP_INTERVAL_MS,
    logger,
  });
  engine.startWorkers({
    journeys: config.WORKER_ROLES.includes('journeys'),
    deliveries: config.WORKER_ROLES.includes('deliveries'),
    journeyConcurrency: config.JOURNEY_CONCURRENCY,
    deliveryConcurrency: config.DELIVERY_CONCURRENCY,
  });
  logger.info(
    {
      redis: redactUrl(resolved.url),
      embeddedRedis: resolved.embedded,
      prefix: config.REDIS_PREFIX,
      roles: config.WORKER_ROLES,
      timeScale: config.TIME_SCALE,
      journeys: engine.catalog.list().map((j) => `${j.id}@${j.version}`),
    },
    'chorus engine started',
  );
  if (options.banner) printBanner(engine, resolved.url, resolved.embedded, config);

  let stopping: Promise<void> | undefined;
  const stop = () =>
    (stopping ??= (async () => {
      logger.info({ deadlineMs: config.SHUTDOWN_DEADLINE_MS }, 'shutting down: finishing active jobs');
      await engine.close(config.SHUTDOWN_DEADLINE_MS);
      await redis.quit().catch(() => redis.disconnect());
      await resolved.stop();
      logger.info({}, 'stopped');
    })());
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.once(signal, () => {
      stop().then(
        () => process.exit(0),
        (err: unknown) => {
          logger.error({ err }, 'shutdown failed');
          process.exit(1);
        },
      );
    });
  }
  return { config, engine, redisUrl: resolved.url, stop };
}

function redactUrl(url: string): string {
  return url.replace(/\/\/[^@/]*@/, '//***@');
}

function printBanner(engine: Engine, redisUrl: string, embedded: boolean, config: Readonly<EnvConfig>): void {
  const env = embedded ? `REDIS_URL=${redisUrl} ` : '';
  const journeys = engine.catalog.list().map((j) => `${j.id}@${j.version}`);
  const lines = [
    '',
    'Chorus is running.',
    `  Redis:     ${redactUrl(redisUrl)}${embedded ? ' (private redis-server, stops with this process)' : ''}`,
    `  Journeys:  ${journeys.join(', ') || `(none in ${config.JOURNEYS_DIR}/)`}`,
    `  Workers:   ${config.WORKER_ROLES.join(', ')}; TIME_SCALE=${config.TIME_SCALE}`,
    '',
    'In another terminal, send events and look at the customer:',
    `  ${env}npm run event -- identify ada '{"firstName":"Ada"}'`,
    `  ${env}npm run event -- track ada "Signed Up" '{"plan":"pro"}'`,
    `  ${env}npm run event -- show ada`,
    '',
    'Ctrl-C stops it (active jobs finish first).',
    '',
  ];
  process.stdout.write(lines.join('\n') + '\n');
}

/** Runs `main`, printing a ChorusError's message (which says how to fix it) instead of a stack. */
export function runMain(main: () => Promise<unknown>): void {
  main().catch((error: unknown) => {
    if (error instanceof ChorusError) process.stderr.write(`${error.code}: ${error.message}\n`);
    else process.stderr.write(`${(error as Error).stack ?? String(error)}\n`);
    process.exit(1);
  });
}
