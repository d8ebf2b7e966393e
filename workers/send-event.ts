// `npm run event -- <command>`: send an event to a running engine, or show a customer.
//   identify <userId> [traitsJson]
//   track <userId> <event> [propertiesJson]
//   trigger <journeyId> <userId> [dataJson]
//   show <userId>
import { pino } from 'pino';
import {
  CliUsageError,
  connectRedis,
  CoreMessageCatalog,
  createEngine,
  describeRedisTarget,
  loadConfig,
  loadJourneysFromDirectory,
  RedisUnavailableError,
  redisTargetOf,
  type RedisConnection,
  type RedisTarget,
} from '../engine/index.js';
import { runMain } from './run-process.js';

const USAGE = `usage: npm run event -- identify <userId> [traitsJson]
       npm run event -- track <userId> <event> [propertiesJson]
       npm run event -- trigger <journeyId> <userId> [dataJson]
       npm run event -- show <userId>`;

function json(text: string | undefined, what: string): Record<string, unknown> {
  if (text === undefined) return {};
  try {
    return JSON.parse(text) as Record<string, unknown>;
  } catch {
    throw new CliUsageError(`${what} is not valid JSON: ${text}\n${USAGE}`);
  }
}

/**
 * Waits for Redis to answer once, or says which Redis did not and how to name the right one: a
 * command line waits for nobody, and the engine's own calls would fail with ioredis's retry error
 * (and its unhandled connection errors) instead. The usual cause is an engine running a private
 * Redis whose REDIS_URL was not given.
 */
async function answering(redis: RedisConnection, target: RedisTarget): Promise<void> {
  let lastError: Error | undefined;
  redis.on('error', (error: Error) => (lastError = error));
  try {
    await redis.ping();
  } catch (error) {
    redis.disconnect();
    throw new RedisUnavailableError(
      `Redis at ${describeRedisTarget(target)} did not answer (${(lastError ?? (error as Error)).message}). ` +
        'To fix: start the engine (npm start) first, or set REDIS_URL (or REDIS_CLUSTER_NODES) to the Redis it runs on; ' +
        'a private redis-server is the Redis line npm start printed.',
      { cause: error },
    );
  }
}

runMain(async () => {
  const config = loadConfig();
  const [command, ...args] = process.argv.slice(2);
  const target = redisTargetOf(config);
  const redis = connectRedis(target, { maxRetriesPerRequest: 1 });
  await answering(redis, target);
  const engine = createEngine({
    redis,
    prefix: config.REDIS_PREFIX,
    journeys: await loadJourneysFromDirectory(config.JOURNEYS_DIR),
    messages: CoreMessageCatalog.fromDirectory(config.TEMPLATES_DIR),
    queueShards: config.QUEUE_SHARDS,
    // On stderr: stdout carries the answer. Says so if an event's drain job could not be added.
    logger: pino({ level: config.LOG_LEVEL }, pino.destination(2)),
  });
  try {
    let result: unknown;
    if (command === 'identify' && args[0])
      result = await engine.identify({ userId: args[0], traits: json(args[1], 'traits') });
    else if (command === 'track' && args[0] && args[1])
      result = await engine.track({
        userId: args[0],
        event: args[1],
        properties: json(args[2], 'properties'),
      });
    else if (command === 'trigger' && args[0] && args[1])
      result = await engine.trigger(args[0], { userId: args[1], data: json(args[2], 'data') });
    else if (command === 'show' && args[0]) result = await engine.customer(args[0]);
    else throw new CliUsageError(USAGE);
    process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
  } finally {
    await engine.close();
    redis.disconnect();
  }
});
