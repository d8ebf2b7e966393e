import type { RenderedFor } from './rendered-message.js';

/**
 * The most bytes FCM takes in a message's notification and data together: beyond it FCM refuses
 * the message (`INVALID_ARGUMENT`, "Message is too big"), as APNs would.
 */
export const PUSH_PAYLOAD_LIMIT = 4096;

/** What of a push FCM hands to the device: the notification and the data, as the adapter sends them. */
export function pushPayload(rendered: RenderedFor<'push'>, opId: string) {
  return {
    notification: { title: rendered.title, body: rendered.body },
    // FCM data values must be strings.
    data: { url: rendered.url, opId },
  };
}

/**
 * The size FCM's limit is measured on, counted as the UTF-8 bytes of the JSON of
 * {@link pushPayload}: its field names and quotes count too, so this errs on the safe side of
 * FCM's own count, which is not published to the byte.
 *
 * @example
 * pushPayloadBytes(rendered, delivery.opId) > PUSH_PAYLOAD_LIMIT; // too big to send
 */
export function pushPayloadBytes(rendered: RenderedFor<'push'>, opId: string): number {
  return Buffer.byteLength(JSON.stringify(pushPayload(rendered, opId)), 'utf8');
}
