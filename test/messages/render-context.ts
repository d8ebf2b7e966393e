import { messageFields, type CoreMessage } from '../../engine/messages/message-catalog.js';
import type { RenderContext } from '../../engine/messages/rendered-message.js';

/** A render context for `message`, as the delivery worker would build it, with `overrides` applied. */
export function renderContext(message: CoreMessage, overrides: Partial<RenderContext> = {}): RenderContext {
  return {
    customer: { id: 'cust-1' },
    profile: {},
    trigger: {},
    event: { name: 'Signed Up', properties: {} },
    data: {},
    journey: { id: 'onboarding', version: 1, state: 'welcome', stage: 'awareness' },
    message: messageFields(message),
    variants: {},
    locale: 'en-US',
    timezone: 'UTC',
    unsubscribeUrl: 'https://chorus.example.com/u/cust-1?sig=abc',
    ...overrides,
  };
}
