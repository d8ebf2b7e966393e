import type { ChannelAdapter } from '../channels/channel-adapter.js';
import type { Clock } from '../clock.js';
import type { Channel } from '../journey/journey-schema.js';
import type { Logger } from '../logger.js';
import type { CoreMessage } from '../messages/message-catalog.js';
import type { RenderContext, RenderedMessage } from '../messages/rendered-message.js';
import type { CustomerStore } from '../store/customer-store.js';
import type { LinkTracking } from '../tracking/track-links.js';
import type { DeliveryPolicy } from './delivery-policy.js';

/** What delivery needs from the template layer. */
export interface Renderer {
  supports(messageId: string, channel: Channel): boolean;
  render(messageId: string, channel: Channel, context: RenderContext): RenderedMessage;
  /** Whether a link of the message leads where the brand chose: only such links are tracked. */
  isBrandLink(messageId: string, url: string): boolean;
}

/** What the delivery workers of every channel share: the store, templates, providers and policy. */
export interface DeliveryDependencies {
  store: CustomerStore;
  renderer: Renderer;
  messages: { get(id: string): (CoreMessage & { webhook?: { url: string } }) | undefined };
  adapters: Partial<Record<Channel, ChannelAdapter>>;
  policy: DeliveryPolicy;
  clock: Clock;
  logger: Logger;
  unsubscribe: { baseUrl: string; secret: string; ttlDays?: number };
  defaults: { locale: string; timezone: string };
  /** Open and click tracking; without it links go out as rendered. */
  tracking?: LinkTracking;
}
