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
  loadConfig,
  loadJourneysFromDirectory,
  redisTargetOf,
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

runMain(async () => {
  const config = loadConfig();
  const [command, ...args] = process.argv.slice(2);
  const redis = connectRedis(redisTargetOf(config), { maxRetriesPerRequest: 1 });
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
