// Secrets the HTTP API needs. In production each must be configured; in development a missing
// one is made up for this process and printed, so `npm start` works with no setup.
import { randomBytes } from 'node:crypto';
import {
  ConfigError,
  generateWebhookSecret,
  type AnyWebhookSource,
  type EnvConfig,
} from '../engine/index.js';

export interface ProcessSecrets {
  apiKeys: readonly string[];
  dashboardPassword: string;
  unsubscribeSecret: string;
  webhookSecrets: Record<string, readonly string[]>;
  /** What was made up here, by variable name, to print for the person at the terminal. */
  generated: Record<string, string>;
}

export function resolveSecrets(
  config: Readonly<EnvConfig>,
  sources: readonly AnyWebhookSource[],
  roles: { api: boolean },
): ProcessSecrets {
  const generated: Record<string, string> = {};
  const missing: Array<{ name: string; message: string }> = [];
  const production = config.NODE_ENV === 'production';
  function orMake(name: string, value: string | undefined, make: () => string): string {
    if (value !== undefined) return value;
    if (production && (roles.api || name === 'UNSUBSCRIBE_SECRET'))
      missing.push({ name, message: 'required when NODE_ENV=production' });
    return (generated[name] = make());
  }
  const apiKeys = config.API_KEY ?? [
    orMake('API_KEY', undefined, () => `chorus_${randomBytes(18).toString('base64url')}`),
  ];
  const dashboardPassword = orMake('DASHBOARD_PASSWORD', config.DASHBOARD_PASSWORD, () =>
    randomBytes(12).toString('base64url'),
  );
  const unsubscribeSecret = orMake('UNSUBSCRIBE_SECRET', config.UNSUBSCRIBE_SECRET, () =>
    randomBytes(24).toString('base64url'),
  );
  const webhookSecrets: Record<string, readonly string[]> = { ...config.WEBHOOK_SOURCE_SECRETS };
  for (const source of sources) {
    if (webhookSecrets[source.id]) continue;
    if (production && roles.api)
      missing.push({
        name: 'WEBHOOK_SOURCE_SECRETS',
        message: `no secret for the webhook source "${source.id}"`,
      });
    const secret = generateWebhookSecret();
    generated[`WEBHOOK_SOURCE_SECRETS (${source.id})`] = secret;
    webhookSecrets[source.id] = [secret];
  }
  if (missing.length > 0) throw new ConfigError(missing);
  return { apiKeys, dashboardPassword, unsubscribeSecret, webhookSecrets, generated };
}
