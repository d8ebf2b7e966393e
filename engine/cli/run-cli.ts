import { resolve } from 'node:path';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { createEmailAdapter } from '../channels/email-adapter.js';
import {
  createInAppToken,
  DEFAULT_IN_APP_TOKEN_TTL_SECONDS,
  MAX_IN_APP_TOKEN_TTL_SECONDS,
} from '../channels/in-app-token.js';
import { writeOutboxFile } from '../channels/outbox-file.js';
import { ConfigError, loadConfig, redisTargetOf, type EnvConfig, type EnvVariable } from '../config.js';
import { DURATION_FORMS, InvalidDurationError, parseDuration } from '../duration.js';
import { ChorusError } from '../errors.js';
import { DEFINED_TWICE, JourneyNotFoundError, JourneyValidationError } from '../journey/journey-catalog.js';
import { Channel } from '../journey/journey-schema.js';
import { loadJourneyFolder } from '../journey/load-journeys.js';
import { JourneyDefinitionError, type Journey } from '../journey/define-journey.js';
import { MessageDefinitionError } from '../messages/message-catalog.js';
import {
  connectRedis,
  describeRedisTarget,
  withoutCredentials,
  type RedisConnection,
} from '../redis/connection.js';
import { redisAnswering } from '../redis/redis-answering.js';
import { MessageRenderer } from '../messages/message-renderer.js';
import { checkTemplates, loadTemplates } from '../messages/template-checks.js';
import { TemplateSet } from '../messages/template-set.js';
import { CliUsageError, RepairRefusedError } from './cli-errors.js';
import { COMMAND_USAGE, isCommand, USAGE, type CommandName } from './cli-usage.js';
import { formatSimulation } from './format-simulation.js';
import { journeyToMermaid } from './journey-graph.js';
import { previewMessage } from './preview-message.js';
import { formatRepair, journeyWorkersRunning, repairStore } from './repair-store.js';
import { packageVersion } from './package-version.js';
import { inputName, readJsonInput, type StandardInput } from './read-json-input.js';
import { formatRendered, renderSettings } from './render-for-customer.js';
import { parseTestAddress, sendTestEmail } from './send-test.js';
import { MAX_UNTIL_MS, simulateJourney } from './simulate-journey.js';
import { SimulationScript, Traits } from './simulation-script.js';
import {
  formatProjectReport,
  isFolder,
  missingFolder,
  validateProject,
  type ProjectProblem,
} from './validate-project.js';

/** Where the CLI writes and what it reads: the process's, or a test's. */
export interface CliIo {
  stdout(text: string): void;
  stderr(text: string): void;
  env: Record<string, string | undefined>;
  /** The time previews and test sends are rendered at. Default: the system clock. */
  now?: () => number;
  /** What `-` reads (`--events -`, `--profile -`). Default: the process's standard input. */
  stdin?: StandardInput;
}

type Options = NonNullable<ParseArgsConfig['options']>;

const FOLDERS: Options = { journeys: { type: 'string' }, templates: { type: 'string' } };
const OPTIONS: Record<CommandName, Options> = {
  validate: FOLDERS,
  graph: FOLDERS,
  simulate: { ...FOLDERS, events: { type: 'string' }, until: { type: 'string' }, html: { type: 'boolean' } },
  preview: {
    ...FOLDERS,
    channel: { type: 'string' },
    profile: { type: 'string' },
    html: { type: 'boolean' },
  },
  'send-test': {
    ...FOLDERS,
    channel: { type: 'string' },
    to: { type: 'string' },
    profile: { type: 'string' },
  },
  // Reads Redis, not the project's folders.
  repair: { force: { type: 'boolean' } },
  'in-app-token': { ttl: { type: 'string' } },
};
const ARGUMENTS: Record<CommandName, string[]> = {
  validate: [],
  graph: ['journey'],
  simulate: ['journey'],
  preview: ['message'],
  'send-test': ['message'],
  repair: [],
  'in-app-token': ['userId'],
};

/** What rendering a message reads from the environment (see renderSettings). */
const RENDER_VARIABLES: readonly EnvVariable[] = [
  'DEFAULT_LOCALE',
  'DEFAULT_TIMEZONE',
  'PUBLIC_URL',
  'PORT',
  'UNSUBSCRIBE_SECRET',
  'DOUBLE_OPT_IN',
  'BRAND_LINK_HOSTS',
];

/**
 * The variables each command reads, so that a bad value of another one (`PORT=abc` under
 * `chorus graph`) does not stop it; `validate` checks them all, as the processes will.
 */
const VARIABLES: Record<CommandName, readonly EnvVariable[] | undefined> = {
  // The folders alone stop it; the rest of the environment is reported among the problems.
  validate: ['JOURNEYS_DIR', 'TEMPLATES_DIR'],
  graph: ['JOURNEYS_DIR', 'TEMPLATES_DIR'],
  simulate: ['JOURNEYS_DIR', 'TEMPLATES_DIR', ...RENDER_VARIABLES],
  preview: ['JOURNEYS_DIR', 'TEMPLATES_DIR', 'OUTBOX_DIR', ...RENDER_VARIABLES],
  'send-test': [
    'JOURNEYS_DIR',
    'TEMPLATES_DIR',
    'OUTBOX_DIR',
    'MAIL_FROM',
    'SMTP_URL',
    'DKIM_DOMAIN',
    'DKIM_SELECTOR',
    'DKIM_PRIVATE_KEY',
    ...RENDER_VARIABLES,
  ],
  repair: ['REDIS_URL', 'REDIS_CLUSTER_NODES', 'REDIS_PREFIX', 'QUEUE_SHARDS'],
  'in-app-token': ['IN_APP_TOKEN_SECRET'],
};

interface Invocation {
  command: CommandName;
  args: string[];
  values: Record<string, string | boolean | undefined>;
  config: Readonly<EnvConfig>;
  io: CliIo;
  dirs: { journeys: string; templates: string };
}

/**
 * Runs one `chorus` command line and returns the exit status: 0 success, 1 problems found or a
 * failure (a ChorusError's code and message, which says how to fix it), 2 a usage error.
 *
 * @example
 * process.exitCode = await runCli(process.argv.slice(2), { stdout: (t) => process.stdout.write(t),
 *   stderr: (t) => process.stderr.write(t), env: process.env });
 */
export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  const [name, ...rest] = argv;
  // `chorus --help simulate` asks what `chorus help simulate` does; `chorus help help`, the overview.
  const asksHelp = name === 'help' || name === '-h' || name === '--help';
  const topic = asksHelp && rest[0] !== 'help' ? rest[0] : undefined;
  if (name === '--version' || name === '-v' || name === 'version') {
    io.stdout(`chorus ${packageVersion()}\n`);
    return 0;
  }
  if (name === undefined || (asksHelp && topic === undefined)) {
    if (name === undefined) {
      io.stderr(`${USAGE}\n`);
      return 2;
    }
    io.stdout(`${USAGE}\n`);
    return 0;
  }
  try {
    // `chorus help <command>` is `chorus <command> --help`; an unknown one is refused like the command.
    if (topic !== undefined && isCommand(topic)) {
      io.stdout(`${COMMAND_USAGE[topic]}\n`);
      return 0;
    }
    if (topic !== undefined) throw new CliUsageError(`Unknown command "${topic}".`);
    if (!isCommand(name)) throw new CliUsageError(`Unknown command "${name}".`);
    const parsed = parseCommandLine(name, rest);
    if (parsed.values.help === true) {
      io.stdout(`${COMMAND_USAGE[name]}\n`);
      return 0;
    }
    const config = loadConfig(io.env, VARIABLES[name]);
    const dirs = {
      journeys: stringOption(parsed.values.journeys) ?? config.JOURNEYS_DIR,
      templates: stringOption(parsed.values.templates) ?? config.TEMPLATES_DIR,
    };
    requireFolders(name, dirs);
    return await COMMANDS[name]({ command: name, ...parsed, config, io, dirs });
  } catch (error) {
    if (error instanceof CliUsageError) {
      io.stderr(
        `${error.message}\n\n${error.command ? COMMAND_USAGE[error.command as CommandName] : USAGE}\n`,
      );
      return 2;
    }
    if (error instanceof ChorusError) {
      io.stderr(`${error.code}: ${error.message}\n`);
      return 1;
    }
    throw error;
  }
}

function parseCommandLine(command: CommandName, argv: string[]) {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      options: { ...OPTIONS[command], help: { type: 'boolean', short: 'h' } },
      allowPositionals: true,
      strict: true,
    });
  } catch (error) {
    // node:util reports unknown options and missing values as TypeErrors with ERR_PARSE_ARGS_* codes.
    const code = (error as { code?: unknown }).code;
    if (typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS'))
      throw new CliUsageError(`chorus ${command}: ${(error as Error).message}`, command);
    throw error;
  }
  // Most often a shell variable that is unset (`--journeys "$DIR"`): read as a folder or file, an
  // empty value was looked for as one with no name, and `validate` printed "in / (none)".
  const empty = Object.entries(parsed.values as Invocation['values']).find(
    ([, value]) => typeof value === 'string' && value.trim() === '',
  );
  if (empty)
    throw new CliUsageError(
      `chorus ${command}: --${empty[0]} is empty; give it a value, or leave it out.`,
      command,
    );
  const expected = ARGUMENTS[command];
  if (parsed.values.help !== true && parsed.positionals.length !== expected.length) {
    throw new CliUsageError(
      parsed.positionals.length < expected.length
        ? `chorus ${command}: missing <${expected[parsed.positionals.length]}>.`
        : `chorus ${command}: unexpected argument "${parsed.positionals[expected.length]}".`,
      command,
    );
  }
  return { args: parsed.positionals, values: parsed.values as Invocation['values'] };
}

const stringOption = (value: string | boolean | undefined) => (typeof value === 'string' ? value : undefined);

function required(run: Invocation, option: string): string {
  const value = stringOption(run.values[option]);
  if (value === undefined)
    throw new CliUsageError(`chorus ${run.command}: --${option} is required.`, run.command);
  return value;
}

function channelOption(run: Invocation, fallback?: Channel): Channel {
  const given = stringOption(run.values.channel) ?? fallback;
  if (given === undefined)
    throw new CliUsageError(`chorus ${run.command}: --channel is required.`, run.command);
  const parsed = Channel.safeParse(given);
  if (!parsed.success)
    throw new CliUsageError(
      `chorus ${run.command}: --channel "${given}" is not a channel; use one of ${Channel.options.join(', ')}.`,
      run.command,
    );
  return parsed.data;
}

/**
 * `--until`, checked before anything is loaded: a value that is no duration is a command line the
 * CLI cannot read (status 2, as a bad --channel), and one past MAX_UNTIL would run the clock past
 * the last date JavaScript can show.
 */
function untilOption(run: Invocation): string | undefined {
  const until = stringOption(run.values.until);
  if (until === undefined) return undefined;
  let ms: number;
  try {
    ms = parseDuration(until);
  } catch (error) {
    if (!(error instanceof InvalidDurationError)) throw error;
    throw new CliUsageError(
      `chorus ${run.command}: --until "${until}" is not a duration; write ${DURATION_FORMS}.`,
      run.command,
    );
  }
  if (ms > MAX_UNTIL_MS)
    throw new CliUsageError(
      `chorus ${run.command}: --until "${until}" is more than ${MAX_UNTIL_MS / 86_400_000} days; simulate at most that far.`,
      run.command,
    );
  return until;
}

/** `--ttl` of `chorus in-app-token`, in seconds: whole seconds from 1 s to 7 days; default an hour. */
function ttlOption(run: Invocation): number {
  const ttl = stringOption(run.values.ttl);
  if (ttl === undefined) return DEFAULT_IN_APP_TOKEN_TTL_SECONDS;
  let ms: number | undefined;
  try {
    ms = parseDuration(ttl);
  } catch (error) {
    if (!(error instanceof InvalidDurationError)) throw error;
  }
  if (ms === undefined || ms < 1000 || ms > MAX_IN_APP_TOKEN_TTL_SECONDS * 1000 || ms % 1000 !== 0)
    throw new CliUsageError(
      `chorus ${run.command}: --ttl "${ttl}" is not a duration of whole seconds from 1s to 7d; write ${DURATION_FORMS}.`,
      run.command,
    );
  return ms / 1000;
}

/**
 * The folders a command reads must exist: the defaults are relative, so `chorus` run outside the
 * project's root would otherwise meet no journeys (a stack trace from the folder scan) or no
 * messages (every one reported missing). `validate` reports them among its problems instead.
 */
function requireFolders(command: CommandName, dirs: Invocation['dirs']): void {
  if (command === 'validate' || command === 'repair' || command === 'in-app-token') return;
  if (command === 'graph' || command === 'simulate') {
    if (!isFolder(dirs.journeys)) throw new JourneyDefinitionError(missingFolder('journeys', dirs.journeys));
  }
  if (command !== 'graph' && !isFolder(dirs.templates))
    throw new MessageDefinitionError(missingFolder('templates', dirs.templates));
}

/** What loading the environment (or `only` those variables) refuses, as a problem of `validate`. */
function configurationProblem(env: CliIo['env'], only?: readonly EnvVariable[]): ProjectProblem | undefined {
  try {
    loadConfig(env, only);
    return undefined;
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    return { area: 'configuration', text: `${error.code}: ${error.message}` };
  }
}

/** A journey by id (its latest version) or `id@version`, from the journeys folder. */
async function findJourney(run: Invocation): Promise<Journey> {
  // Split at the first @ only: in `x@1@2` the version is `1@2`, which no journey has, not 1.
  const arg = run.args[0] ?? '';
  const at = arg.indexOf('@');
  const id = at === -1 ? arg : arg.slice(0, at);
  const version = at === -1 ? undefined : arg.slice(at + 1);
  if (id === '')
    throw new CliUsageError(
      `chorus ${run.command}: "${arg}" names no journey; write <journey> or <journey>@<version>.`,
      run.command,
    );
  const { journeys } = await loadJourneyFolder(run.dirs.journeys);
  const versions = journeys.filter((journey) => journey.id === id).sort((a, b) => b.version - a.version);
  const journey = versions.find((v) => version === undefined || String(v.version) === version);
  // Two files with one id and version (a copy for a new version whose version was not raised):
  // the engine refuses to start, and either could be shown, the copy's edits or not.
  if (journey && versions.filter((v) => v.version === journey.version).length > 1)
    throw new JourneyValidationError([{ journey: `${id}@${journey.version}`, message: DEFINED_TWICE }]);
  if (!journey) {
    const loadedIds = [...new Set(journeys.map((j) => j.id))].sort();
    const loadedVersions = versions.map((v) => v.version).reverse();
    throw new JourneyNotFoundError(id, {
      ...(version === undefined ? {} : { version }),
      loadedVersions,
      loadedIds,
    });
  }
  return journey;
}

/** The templates, loaded even when some have problems: those of this message are printed as warnings. */
function templatesFor(run: Invocation, messageId: string): TemplateSet {
  const templates = TemplateSet.fromDirectory(run.dirs.templates);
  // A brand layout's or partial's problem (no message named) is every message's.
  const problems = checkTemplates(templates).filter(
    (problem) => problem.message === messageId || problem.message === undefined,
  );
  for (const problem of problems) run.io.stderr(`warning: ${problem.text}\n`);
  return templates;
}

function profileFrom(run: Invocation): Record<string, unknown> {
  const path = stringOption(run.values.profile);
  return path === undefined ? {} : readJsonInput(path, Traits, 'profile file', run.io.stdin);
}

const COMMANDS: Record<CommandName, (run: Invocation) => Promise<number>> = {
  async validate(run) {
    // A bad variable is one problem among the others, not the only one told: the journeys and
    // templates are checked whatever the environment says, the webhook secrets when readable.
    const configProblem = configurationProblem(run.io.env);
    const secrets = configurationProblem(run.io.env, ['WEBHOOK_SOURCE_SECRETS'])
      ? undefined
      : loadConfig(run.io.env, ['WEBHOOK_SOURCE_SECRETS']).WEBHOOK_SOURCE_SECRETS;
    // SMS parts are counted as start-up counts them: with tracked links at their short length.
    const linkVars = ['TRACK_LINKS', 'PUBLIC_URL', 'PORT'] as const;
    const links = configurationProblem(run.io.env, linkVars) ? undefined : loadConfig(run.io.env, linkVars);
    const trackedSmsLinks = links?.TRACK_LINKS
      ? { baseUrl: links.PUBLIC_URL ?? `http://localhost:${links.PORT}` }
      : undefined;
    const report = await validateProject(run.dirs, {
      ...(secrets ? { webhookSourceSecrets: secrets } : {}),
      ...(trackedSmsLinks ? { trackedSmsLinks } : {}),
    });
    if (configProblem) report.problems.unshift(configProblem);
    const text = formatProjectReport(report, run.dirs);
    if (report.problems.length > 0) {
      run.io.stderr(text);
      return 1;
    }
    run.io.stdout(text);
    return 0;
  },

  async graph(run) {
    run.io.stdout(journeyToMermaid(await findJourney(run)));
    return 0;
  },

  async simulate(run) {
    const eventsFile = required(run, 'events');
    const until = untilOption(run);
    const journey = await findJourney(run);
    const script = readJsonInput(eventsFile, SimulationScript, 'events file', run.io.stdin);
    const templates = loadTemplates(run.dirs.templates, { journeys: [journey] });
    const result = simulateJourney(journey, script, {
      templates,
      renderer: new MessageRenderer(templates, { brandLinkHosts: run.config.BRAND_LINK_HOSTS }),
      settings: renderSettings(run.config),
      what: `events file ${inputName(eventsFile)}`,
      ...(until === undefined ? {} : { until }),
    });
    run.io.stdout(formatSimulation(result, { html: run.values.html === true }));
    return 0;
  },

  async preview(run) {
    const [messageId = ''] = run.args;
    const channel = channelOption(run);
    const profile = profileFrom(run);
    const templates = templatesFor(run, messageId);
    const now = run.io.now?.() ?? Date.now();
    const { rendered } = previewMessage(templates, messageId, channel, {
      customerId: typeof profile.userId === 'string' ? profile.userId : 'preview',
      profile,
      settings: renderSettings(run.config),
      now,
    });
    const inline = rendered.channel !== 'email' || run.values.html === true;
    const lines = formatRendered(rendered, { html: inline });
    if (rendered.channel === 'email' && !inline) {
      const path = await writeOutboxFile(
        run.config.OUTBOX_DIR,
        'preview',
        `${messageId}.html`,
        rendered.html,
      ).catch((error: unknown) => {
        // OUTBOX_DIR (default outbox/) is a value of the environment: an unwritable one is its problem.
        throw new ConfigError([
          {
            name: 'OUTBOX_DIR',
            message: `the preview cannot be written to ${resolve(run.config.OUTBOX_DIR, 'preview')} (${(error as Error).message}); set it to a folder you can write, or print the HTML with --html`,
          },
        ]);
      });
      lines.push('', `HTML: ${path}`);
    }
    run.io.stdout(`${lines.join('\n')}\n`);
    return 0;
  },

  async 'send-test'(run) {
    const [messageId = ''] = run.args;
    const channel = channelOption(run, 'email');
    if (channel !== 'email')
      throw new CliUsageError(`chorus send-test: only --channel email can be test-sent.`, run.command);
    const to = parseTestAddress(required(run, 'to'));
    const profile = { ...profileFrom(run), email: to };
    const templates = templatesFor(run, messageId);
    const settings = renderSettings(run.config);
    const now = run.io.now?.() ?? Date.now();
    const { rendered, context } = previewMessage(templates, messageId, 'email', {
      customerId: 'send-test',
      profile,
      settings,
      now,
    });
    const { config } = run;
    const adapter = createEmailAdapter({
      from: config.MAIL_FROM,
      outboxDir: config.OUTBOX_DIR,
      ...(config.SMTP_URL ? { smtpUrl: config.SMTP_URL } : {}),
      ...(config.DKIM_DOMAIN && config.DKIM_SELECTOR && config.DKIM_PRIVATE_KEY
        ? {
            dkim: {
              domainName: config.DKIM_DOMAIN,
              keySelector: config.DKIM_SELECTOR,
              privateKey: config.DKIM_PRIVATE_KEY,
            },
          }
        : {}),
      maxConnections: 1,
    });
    try {
      const unsubscribeUrl = context.unsubscribeUrl;
      const topic = templates.message(messageId)?.topic;
      const sent = await sendTestEmail({
        adapter,
        messageId,
        to,
        rendered,
        unsubscribeUrl,
        ...(topic ? { topic } : {}),
      });
      run.io.stdout(
        sent.provider === 'smtp'
          ? `Sent "${messageId}" to ${to} through ${withoutCredentials(config.SMTP_URL ?? '')}: ${sent.where}\n`
          : `Wrote "${messageId}" for ${to} to ${sent.where} (SMTP_URL is unset, so email goes to the outbox).\n`,
      );
      return 0;
    } finally {
      await adapter.close?.();
    }
  },

  async repair(run) {
    const { config } = run;
    const target = redisTargetOf(config);
    const where = `Redis ${describeRedisTarget(target)} under REDIS_PREFIX ${config.REDIS_PREFIX}`;
    const redis = connectRedis(target, { maxRetriesPerRequest: 1 });
    await redisAnswering(redis, target);
    try {
      if (run.values.force !== true) await refuseWhileWorkersRun(redis, config, where);
      run.io.stdout(formatRepair(await repairStore(redis, config.REDIS_PREFIX), where));
      return 0;
    } finally {
      redis.disconnect();
    }
  },

  async 'in-app-token'(run) {
    const [userId = ''] = run.args;
    const secret = run.config.IN_APP_TOKEN_SECRET;
    if (secret === undefined)
      throw new ConfigError([
        { name: 'IN_APP_TOKEN_SECRET', message: "unset; set it to the API's, which signs in-app tokens" },
      ]);
    const ttlSeconds = ttlOption(run);
    const now = run.io.now?.() ?? Date.now();
    run.io.stdout(`${createInAppToken(secret, userId, { ttlSeconds, now })}\n`);
    return 0;
  },
};

/** `chorus repair` wants a quiet engine: see journeyWorkersRunning. */
async function refuseWhileWorkersRun(
  redis: RedisConnection,
  config: Readonly<EnvConfig>,
  where: string,
): Promise<void> {
  let running: number;
  try {
    running = await journeyWorkersRunning(redis, config.REDIS_PREFIX, config.QUEUE_SHARDS);
  } catch (error) {
    throw new RepairRefusedError(
      `Cannot tell whether journey workers run on ${where} (${(error as Error).message}); ` +
        'a step they count while the journey counts are rebuilt may be lost. ' +
        'To fix: stop the workers, then run chorus repair --force.',
      { cause: error },
    );
  }
  if (running > 0)
    throw new RepairRefusedError(
      `${running} journey worker(s) run on ${where}; a step they count while the journey counts are ` +
        'rebuilt may be lost. To fix: stop the workers and run chorus repair again; --force repairs even so ' +
        '(a run once they are stopped then corrects what it missed).',
    );
}
