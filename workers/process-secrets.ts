// Secrets the HTTP API needs, and what start-up says of them. In production each must be
// configured; in development a missing one is made up once per key prefix and shared through
// Redis (shared-dev-secrets.ts), so `npm start` works with no setup and split roles
// (start:api, start:worker) still agree.
import { randomBytes } from 'node:crypto';
import {
  ConfigError,
  generateWebhookSecret,
  unknownWebhookSources,
  type AnyWebhookSource,
  type EnvConfig,
  type Logger,
  type RedisConnection,
} from '../engine/index.js';
import { devSecretsKey, sharedDevSecrets } from './shared-dev-secrets.js';

export interface ProcessSecrets {
  apiKeys: readonly string[];
  dashboardPassword: string;
  unsubscribeSecret: string;
  /** UNSUBSCRIBE_PREVIOUS_SECRETS: links signed with one are still taken. */
  previousUnsubscribeSecrets: readonly string[];
  webhookSecrets: Record<string, readonly string[]>;
  /** What was made up, by variable name, to print for the person at the terminal. */
  generated: Record<string, string>;
  /** The Redis key every process of the prefix shares `generated` through; unset in production. */
  sharedAt?: string;
}

/** The name a made-up webhook source secret is printed and shared under. */
const webhookSecretName = (sourceId: string) => `WEBHOOK_SOURCE_SECRETS (${sourceId})`;

export async function resolveSecrets(
  config: Readonly<EnvConfig>,
  sources: readonly AnyWebhookSource[],
  roles: { api: boolean },
  redis: RedisConnection,
): Promise<ProcessSecrets> {
  const unset = unsetSecrets(config, sources);
  const production = config.NODE_ENV === 'production';
  const problems = [
    ...unknownWebhookSources(
      config.WEBHOOK_SOURCE_SECRETS,
      sources.map((source) => source.id),
    ),
    ...(production ? missingInProduction(unset, sources, roles) : []),
  ];
  if (problems.length > 0) throw new ConfigError(problems);
  const shared = !production && Object.keys(unset).length > 0;
  const generated = shared ? await sharedDevSecrets(redis, config.REDIS_PREFIX, unset) : unset;
  const webhookSecrets: Record<string, readonly string[]> = { ...config.WEBHOOK_SOURCE_SECRETS };
  for (const source of sources) webhookSecrets[source.id] ??= [generated[webhookSecretName(source.id)]!];
  return {
    apiKeys: config.API_KEY ?? [generated.API_KEY!],
    dashboardPassword: config.DASHBOARD_PASSWORD ?? generated.DASHBOARD_PASSWORD!,
    unsubscribeSecret: config.UNSUBSCRIBE_SECRET ?? generated.UNSUBSCRIBE_SECRET!,
    previousUnsubscribeSecrets: config.UNSUBSCRIBE_PREVIOUS_SECRETS,
    webhookSecrets,
    generated,
    ...(shared ? { sharedAt: devSecretsKey(config.REDIS_PREFIX) } : {}),
  };
}

/** A worker alone needs only the unsubscribe secret; what else it lacks it makes up, unused. */
function missingInProduction(
  unset: Record<string, string>,
  sources: readonly AnyWebhookSource[],
  roles: { api: boolean },
): Array<{ name: string; message: string }> {
  const required = roles.api
    ? (['API_KEY', 'DASHBOARD_PASSWORD', 'UNSUBSCRIBE_SECRET'] as const)
    : (['UNSUBSCRIBE_SECRET'] as const);
  const missing: Array<{ name: string; message: string }> = required
    .filter((name) => name in unset)
    .map((name) => ({ name, message: 'required when NODE_ENV=production' }));
  if (roles.api)
    for (const source of sources)
      if (webhookSecretName(source.id) in unset)
        missing.push({
          name: 'WEBHOOK_SOURCE_SECRETS',
          message: `no secret for the webhook source "${source.id}"`,
        });
  return missing;
}

/** A fresh value for each secret the configuration leaves unset, by the name it is printed under. */
function unsetSecrets(
  config: Readonly<EnvConfig>,
  sources: readonly AnyWebhookSource[],
): Record<string, string> {
  const unset: Record<string, string> = {};
  if (config.API_KEY === undefined) unset.API_KEY = `chorus_${randomBytes(18).toString('base64url')}`;
  if (config.DASHBOARD_PASSWORD === undefined)
    unset.DASHBOARD_PASSWORD = randomBytes(12).toString('base64url');
  if (config.UNSUBSCRIBE_SECRET === undefined)
    unset.UNSUBSCRIBE_SECRET = randomBytes(24).toString('base64url');
  for (const source of sources)
    if (!config.WEBHOOK_SOURCE_SECRETS?.[source.id])
      unset[webhookSecretName(source.id)] = generateWebhookSecret();
  return unset;
}

/**
 * Where the made-up secrets are kept, for the messages that show them: every process of the
 * prefix reads the same key, so they all sign and check with the same values.
 */
export function madeUpSharing(secrets: ProcessSecrets, prefix: string): string {
  if (secrets.sharedAt === undefined) return 'for this run';
  return `shared by every process of prefix ${prefix} (Redis key ${secrets.sharedAt})`;
}

export function warnUnsetUnsubscribeSecret(
  logger: Logger,
  secrets: ProcessSecrets,
  prefix: string,
  embedded: boolean,
): void {
  logger.warn(
    { sharedAt: secrets.sharedAt },
    `UNSUBSCRIBE_SECRET is unset: unsubscribe and tracking links are signed with a secret made up for development, ${madeUpSharing(secrets, prefix)}` +
      (embedded ? '; they stop working when this process stops, as its private Redis goes with it' : ''),
  );
}

/**
 * Without a terminal there is no banner, and a secret made up for development would be known to
 * nobody: the API could not be called (`npm start > chorus.log`, a container's log). So they are
 * logged once. Only development makes secrets up; production refuses to start without them.
 */
export function logMadeUpSecrets(logger: Logger, secrets: ProcessSecrets, prefix: string): void {
  const shown = Object.entries(secrets.generated).filter(([name]) => name !== 'UNSUBSCRIBE_SECRET');
  if (shown.length === 0) return;
  logger.warn(
    { madeUp: Object.fromEntries(shown), sharedAt: secrets.sharedAt },
    `made up, ${madeUpSharing(secrets, prefix)}, logged as no terminal shows the banner: set ${shown.map(([name]) => name.split(' ')[0]).join(', ')} to choose your own`,
  );
}
