import type { Channel } from '../journey/journey-schema.js';

/**
 * What a template sees. Every send is rendered from the customer's current traits, the
 * properties of the journey's trigger and of the event that caused the send, the journey's own
 * data, and the core message itself (its CTA URL already carrying UTM parameters).
 */
export interface RenderContext {
  customer: { id: string };
  profile: Record<string, unknown>;
  trigger: Record<string, unknown>;
  /** The event whose transition asked for the send: `{}` properties when it was a timer. */
  event: { name: string; properties: Record<string, unknown> };
  data: Record<string, unknown>;
  journey: { id: string; version: number; state: string; stage: string };
  message: {
    id: string;
    proposition: string;
    headline: string;
    cta: { label: string; url: string };
    brand?: string;
    tone?: string;
  };
  /** Variants of every split the customer passed, e.g. `{ "subject-test": "b" }`. */
  variants: Record<string, string>;
  /** The customer's locale (BCP 47) and IANA time zone, from traits, with configured fallbacks. */
  locale: string;
  timezone: string;
  /** The one-click unsubscribe URL for this send. */
  unsubscribeUrl: string;
}

/** One core message rendered for one channel. */
export type RenderedMessage =
  | { channel: 'email'; subject: string; html: string; text: string }
  | { channel: 'sms'; body: string; encoding: 'GSM-7' | 'UCS-2'; segments: number }
  | {
      channel: 'push';
      title: string;
      body: string;
      url: string;
      /** The message's `push.ttl` in milliseconds; absent: FCM's default of four weeks. */
      ttlMs?: number;
      /** The message's `push.collapseKey`; absent: sends do not replace one another. */
      collapseKey?: string;
    }
  | { channel: 'in-app'; title: string; body: string; cta: { label: string; url: string } }
  | { channel: 'webhook'; payload: Record<string, unknown> };

export type RenderedFor<C extends Channel> = Extract<RenderedMessage, { channel: C }>;
