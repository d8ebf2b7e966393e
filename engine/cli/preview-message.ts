import type { Channel } from '../journey/journey-schema.js';
import { MessageRenderError, MessageRenderer } from '../messages/message-renderer.js';
import type { RenderContext, RenderedMessage } from '../messages/rendered-message.js';
import type { TemplateSet } from '../messages/template-set.js';
import { renderContextFor, type RenderSettings } from './render-for-customer.js';

/**
 * One message rendered for one customer on one channel, as the delivery worker would render it
 * outside any journey: `trigger`, `event` and `data` are empty, so templates show their fallbacks.
 *
 * @throws MessageRenderError when the message does not exist or has no templates for the channel.
 */
export function previewMessage(
  templates: TemplateSet,
  messageId: string,
  channel: Channel,
  input: { customerId: string; profile: Record<string, unknown>; settings: RenderSettings; now: number },
): { rendered: RenderedMessage; context: RenderContext } {
  const renderer = new MessageRenderer(templates, {
    ...(input.settings.brandLinkHosts === undefined ? {} : { brandLinkHosts: input.settings.brandLinkHosts }),
  });
  const message = templates.message(messageId);
  if (!message) {
    throw new MessageRenderError(
      { messageId, channel },
      `Message "${messageId}" is not in ${templates.dir}/ (it has ${templates.messageIds().join(', ') || 'none'}). To fix: use one of those ids, or add ${templates.dir}/${messageId}/message.json and its templates.`,
    );
  }
  const context = renderContextFor(message, input, input.settings);
  return { rendered: renderer.render(messageId, channel, context), context };
}
