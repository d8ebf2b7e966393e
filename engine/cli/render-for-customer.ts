import { randomBytes } from 'node:crypto';
import { resolveAddress } from '../delivery/address.js';
import { createUnsubscribeToken, unsubscribeUrl } from '../delivery/unsubscribe-token.js';
import type { Address } from '../channels/channel-adapter.js';
import type { Channel } from '../journey/journey-schema.js';
import { customerTimeZone } from '../local-time.js';
import { customerLocale } from '../messages/handlebars-env.js';
import { messageFields, type CoreMessage } from '../messages/message-catalog.js';
import type { MessageRenderer } from '../messages/message-renderer.js';
import type { RenderContext, RenderedMessage } from '../messages/rendered-message.js';
import { topicOf } from '../policy/topic.js';
import { consentOfTraits } from '../policy/trait-consent.js';

/** What rendering needs from the configuration, as the delivery worker uses it. */
export interface RenderSettings {
  defaults: { locale: string; timezone: string };
  unsubscribe: { baseUrl: string; secret: string };
  /** DOUBLE_OPT_IN: an email marketing grant waits for its confirmation. */
  doubleOptIn: boolean;
  /** BRAND_LINK_HOSTS: the hosts whose links get UTM parameters beside those of the templates. */
  brandLinkHosts?: readonly string[];
}

/** Settings from the environment; without UNSUBSCRIBE_SECRET, links are signed with a throwaway key. */
export function renderSettings(config: {
  DEFAULT_LOCALE: string;
  DEFAULT_TIMEZONE: string;
  PUBLIC_URL?: string | undefined;
  PORT: number;
  UNSUBSCRIBE_SECRET?: string | undefined;
  DOUBLE_OPT_IN: boolean;
  BRAND_LINK_HOSTS?: readonly string[];
}): RenderSettings {
  return {
    doubleOptIn: config.DOUBLE_OPT_IN,
    ...(config.BRAND_LINK_HOSTS === undefined ? {} : { brandLinkHosts: config.BRAND_LINK_HOSTS }),
    defaults: { locale: config.DEFAULT_LOCALE, timezone: config.DEFAULT_TIMEZONE },
    unsubscribe: {
      baseUrl: config.PUBLIC_URL ?? `http://localhost:${config.PORT}`,
      secret: config.UNSUBSCRIBE_SECRET ?? randomBytes(24).toString('hex'),
    },
  };
}

/** One send as the templates see it, built the way the delivery worker builds it at send time. */
export interface SendSituation {
  customerId: string;
  profile: Record<string, unknown>;
  trigger?: Record<string, unknown>;
  event?: RenderContext['event'];
  data?: Record<string, unknown>;
  journey?: RenderContext['journey'];
  variants?: Record<string, string>;
  now: number;
}

export function renderContextFor(
  message: CoreMessage,
  situation: SendSituation,
  settings: RenderSettings,
): RenderContext {
  const { profile } = situation;
  const token = createUnsubscribeToken(settings.unsubscribe.secret, {
    customerId: situation.customerId,
    topic: 'marketing',
  });
  return {
    customer: { id: situation.customerId },
    profile,
    trigger: situation.trigger ?? {},
    event: situation.event ?? { name: 'Preview', properties: {} },
    data: situation.data ?? {},
    journey: situation.journey ?? { id: 'preview', version: 1, state: 'preview', stage: 'awareness' },
    message: messageFields(message),
    variants: situation.variants ?? {},
    locale: customerLocale(profile, settings.defaults.locale),
    timezone: customerTimeZone(profile, settings.defaults.timezone),
    unsubscribeUrl: unsubscribeUrl(settings.unsubscribe.baseUrl, token),
  };
}

/**
 * The channel delivery would use: the first in order of preference that the message has
 * templates for, the customer has an address on and the customer's consent allows (as their
 * `consent` trait records it, see consentOfTraits), as the delivery worker falls back. The
 * suppression list, caps and quiet hours are not simulated.
 */
export function chooseChannel(
  renderer: Pick<MessageRenderer, 'supports'>,
  message: CoreMessage,
  channels: readonly Channel[],
  traits: Record<string, unknown>,
  options: { doubleOptIn: boolean },
): { channel: Channel; address: Address; passed: string[] } | { reasons: string[] } {
  const reasons: string[] = [];
  for (const channel of channels) {
    if (!renderer.supports(message.id, channel)) {
      reasons.push(`${channel}: message "${message.id}" has no ${channel} template`);
      continue;
    }
    const address = resolveAddress(channel, traits, message.webhook?.url);
    if (!address) {
      reasons.push(`${channel}: the customer has no ${channel} address`);
      continue;
    }
    const consent = consentOfTraits(traits, channel, topicOf(message), options);
    if (!consent.allowed) {
      reasons.push(`${channel}: ${consent.why}`);
      continue;
    }
    return { channel, address, passed: reasons };
  }
  return { reasons };
}

/** Where a send goes, for people: `ada@example.com`, `+15550100`, `in-app inbox`. */
export function describeAddress(address: Address): string {
  return address.email ?? address.phone ?? address.pushToken ?? address.webhookUrl ?? 'in-app inbox';
}

/** A rendered message as labelled plain text, one part after the other. */
export function formatRendered(rendered: RenderedMessage, options: { html: boolean }): string[] {
  switch (rendered.channel) {
    case 'email':
      return [
        `Subject: ${rendered.subject}`,
        '',
        rendered.text,
        ...(options.html ? ['', '--- HTML ---', rendered.html] : []),
      ];
    case 'sms':
      return [rendered.body, '', `(${rendered.segments} SMS part(s), ${rendered.encoding})`];
    case 'push':
      return [`Title: ${rendered.title}`, `Body: ${rendered.body}`, `Opens: ${rendered.url}`];
    case 'in-app':
      return [
        `Title: ${rendered.title}`,
        `Body: ${rendered.body}`,
        `Button: ${rendered.cta.label} → ${rendered.cta.url}`,
      ];
    case 'webhook':
      return JSON.stringify(rendered.payload, null, 2).split('\n');
  }
}
