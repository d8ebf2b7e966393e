import type { RedisConnection } from '../redis/connection.js';
import type { Channel } from '../journey/journey-schema.js';
import type { Logger } from '../logger.js';
import type { ChannelAdapter } from './channel-adapter.js';
import { createEmailAdapter, type EmailDkimOptions } from './email-adapter.js';
import { createInAppAdapter } from './in-app-adapter.js';
import { createOutboxAdapter } from './outbox-adapter.js';
import { createPushAdapter } from './push-adapter.js';
import type { ServiceAccount } from './service-account.js';
import { createSmsAdapter } from './sms-adapter.js';
import { createWebhookAdapter } from './webhook-adapter.js';

export interface ChannelSetup {
  redis: RedisConnection;
  prefix: string;
  outboxDir: string;
  mailFrom: string;
  /** How long an in-app message is shown (IN_APP_TTL); the in-app adapter's default when unset. */
  inAppTtlMs?: number | undefined;
  smtpUrl?: string | undefined;
  /** Pooled SMTP connections and messages per connection (the email adapter's defaults when unset). */
  smtpPool?: { maxConnections: number; maxMessages: number } | undefined;
  dkim?: EmailDkimOptions | undefined;
  twilio?: { baseUrl: string; accountSid: string; authToken: string; from: string } | undefined;
  /** FCM push: a service account key (preferred), or a fixed access token with its project. */
  fcm?:
    | { baseUrl: string; projectId?: string | undefined; serviceAccount: ServiceAccount }
    | { baseUrl: string; projectId: string; accessToken: string }
    | undefined;
  /** The signing secret, or several during a rotation (each request is signed with all of them). */
  webhook?: { secret: string | readonly string[]; allowPrivateTargets: boolean } | undefined;
  logger?: Logger;
}

/**
 * One adapter per channel from what is configured: real providers where their settings are
 * given, the `outbox/` folder for email, SMS and push where they are not, the Redis inbox for
 * in-app. Webhooks need a signing secret; without one a webhook send falls back to the next channel.
 */
export function createChannelAdapters(setup: ChannelSetup): Partial<Record<Channel, ChannelAdapter>> {
  const { outboxDir, logger } = setup;
  const adapters: Partial<Record<Channel, ChannelAdapter>> = {
    email: createEmailAdapter({
      from: setup.mailFrom,
      outboxDir,
      ...(setup.smtpUrl ? { smtpUrl: setup.smtpUrl } : {}),
      ...(setup.smtpPool ?? {}),
      ...(setup.dkim ? { dkim: setup.dkim } : {}),
      ...(logger ? { logger } : {}),
    }),
    sms: setup.twilio
      ? createSmsAdapter({
          baseUrl: setup.twilio.baseUrl,
          accountSid: setup.twilio.accountSid,
          authToken: setup.twilio.authToken,
          from: setup.twilio.from,
        })
      : createOutboxAdapter({ channel: 'sms', outboxDir, ...(logger ? { logger } : {}) }),
    push: setup.fcm
      ? createPushAdapter({
          baseUrl: setup.fcm.baseUrl,
          ...(setup.fcm.projectId ? { projectId: setup.fcm.projectId } : {}),
          ...('serviceAccount' in setup.fcm
            ? { serviceAccount: setup.fcm.serviceAccount }
            : { accessToken: setup.fcm.accessToken }),
        })
      : createOutboxAdapter({ channel: 'push', outboxDir, ...(logger ? { logger } : {}) }),
    'in-app': createInAppAdapter({
      redis: setup.redis,
      prefix: setup.prefix,
      ...(setup.inAppTtlMs === undefined ? {} : { ttlMs: setup.inAppTtlMs }),
    }),
  };
  if (setup.webhook) {
    adapters.webhook = createWebhookAdapter({
      secret: setup.webhook.secret,
      allowPrivateTargets: setup.webhook.allowPrivateTargets,
    });
  }
  return adapters;
}
