// `npm run event -- <command>`: send an event to a running engine, or show a customer.
//   identify <userId> [traitsJson]
//   track <userId> <event> [propertiesJson]
//   trigger <journeyId> <userId> [dataJson]
//   show <userId>
//   --help
import { pino } from 'pino';
import {
  CliUsageError,
  connectRedis,
  CoreMessageCatalog,
  createEngine,
  describeRedisTarget,
  loadConfig,
  loadJourneysFromDirectory,
  NotFoundError,
  redisAnswering,
  redisTargetOf,
  type Engine,
  type EnvVariable,
} from '../engine/index.js';
import { requireFolders, runMain } from './run-process.js';

const USAGE = `usage: npm run event -- identify <userId> [traitsJson]
       npm run event -- track <userId> <event> [propertiesJson]
       npm run event -- trigger <journeyId> <userId> [dataJson]
       npm run event -- show <userId>`;

function json(text: string | undefined, what: string): Record<string, unknown> {
  if (text === undefined) return {};
  try {
    return JSON.parse(text) as Record<string, unknown>;
  } catch {
    throw new CliUsageError(`${what} is not valid JSON: ${text}\n\n${USAGE}`);
  }
}

/** Each command's arguments: `<required>`, then the `[optional]` JSON. */
const ARGUMENTS = {
  identify: ['<userId>', '[traitsJson]'],
  track: ['<userId>', '<event>', '[propertiesJson]'],
  trigger: ['<journeyId>', '<userId>', '[dataJson]'],
  show: ['<userId>'],
} as const;

/** `where` names the Redis and key prefix, for a message. */
type Call = (engine: Engine, where: string) => Promise<unknown>;

/**
 * The call the command line asks for, or `undefined` for its help; checked whole, JSON included,
 * before Redis is asked anything, so a typo costs no connection and an extra argument (a JSON
 * given twice, an event name not quoted) is refused rather than dropped.
 */
function callOf(argv: readonly string[]): Call | undefined {
  const [command, ...given] = argv;
  // `--` ends the options: what follows is taken as written, an id that starts with "-" say.
  const end = given.indexOf('--');
  const options = end === -1 ? given : given.slice(0, end);
  const isHelp = (arg: string | undefined) => arg === '--help' || arg === '-h';
  if (isHelp(command) || command === 'help' || options.some(isHelp)) return undefined;
  if (command === undefined) throw new CliUsageError(USAGE);
  if (!Object.hasOwn(ARGUMENTS, command))
    throw new CliUsageError(`Unknown command "${command}".\n\n${USAGE}`);
  // No command takes an option: `identify --verbose` would otherwise store a customer "--verbose".
  const option = options.find((arg) => arg.length > 1 && arg.startsWith('-'));
  if (option)
    throw new CliUsageError(
      `${command}: unknown option "${option}"; an argument that starts with "-" goes after "--".\n\n${USAGE}`,
    );
  const args = end === -1 ? given : [...options, ...given.slice(end + 1)];
  const expected: readonly string[] = ARGUMENTS[command as keyof typeof ARGUMENTS];
  const missing = expected.find((name, index) => name.startsWith('<') && !args[index]);
  if (missing) throw new CliUsageError(`${command}: missing ${missing}.\n\n${USAGE}`);
  if (args.length > expected.length)
    throw new CliUsageError(`${command}: unexpected argument "${args[expected.length]}".\n\n${USAGE}`);
  const [first = '', second, third] = args;
  switch (command as keyof typeof ARGUMENTS) {
    case 'identify': {
      const traits = json(second, 'traits');
      return (engine) => engine.identify({ userId: first, traits });
    }
    case 'track': {
      const properties = json(third, 'properties');
      return (engine) => engine.track({ userId: first, event: second ?? '', properties });
    }
    case 'trigger': {
      const data = json(third, 'data');
      return (engine) => engine.trigger(first, { userId: second ?? '', data });
    }
    case 'show':
      return (engine, where) => shown(engine, first, where);
  }
}

/**
 * The customer, or an error when nothing is stored under the id: an empty record would look the
 * same for a misspelt id and for an engine on another Redis or REDIS_PREFIX. Nothing stored is
 * what the API's `GET /v1/customers/:userId` answers 404 to, a consent answer alone included.
 */
async function shown(engine: Engine, userId: string, where: string) {
  const stored = await engine.customer(userId);
  const nothingStored =
    stored.rev === 0 &&
    stored.pendingEvents === 0 &&
    stored.messages.length === 0 &&
    (await engine.store.redis.llen(engine.store.keys(userId).consentLog)) === 0;
  if (nothingStored)
    throw new NotFoundError(
      `No customer "${userId}" in ${where}. To fix: check the id, or set REDIS_PREFIX ` +
        '(and REDIS_URL) to those of the engine that stored them.',
    );
  return stored;
}

const EVENT_VARIABLES: readonly EnvVariable[] = [
  'REDIS_URL',
  'REDIS_CLUSTER_NODES',
  'REDIS_PREFIX',
  'QUEUE_SHARDS',
  'MAX_CALL_BYTES',
  'JOURNEYS_DIR',
  'TEMPLATES_DIR',
  'LOG_LEVEL',
];

runMain(async () => {
  const call = callOf(process.argv.slice(2));
  if (!call) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  // Only what it uses: a value meant for the workers or the API (SMTP_URL, PORT) does not stop it.
  const config = loadConfig(process.env, EVENT_VARIABLES);
  requireFolders(config);
  const target = redisTargetOf(config);
  const redis = connectRedis(target, { maxRetriesPerRequest: 1 });
  await redisAnswering(redis, target);
  const engine = createEngine({
    redis,
    prefix: config.REDIS_PREFIX,
    journeys: await loadJourneysFromDirectory(config.JOURNEYS_DIR),
    messages: CoreMessageCatalog.fromDirectory(config.TEMPLATES_DIR),
    queueShards: config.QUEUE_SHARDS,
    maxCallBytes: config.MAX_CALL_BYTES,
    // On stderr: stdout carries the answer. Says so if an event's drain job could not be added.
    logger: pino({ level: config.LOG_LEVEL }, pino.destination(2)),
  });
  try {
    process.stdout.write(
      `${JSON.stringify(await call(engine, `Redis ${describeRedisTarget(target)} under REDIS_PREFIX ${config.REDIS_PREFIX}`), null, 2)}\n`,
    );
  } finally {
    await engine.close();
    redis.disconnect();
  }
});
