import { openToken, sealToken } from '../signed-token.js';

/** What a one-click unsubscribe link stands for. */
export interface UnsubscribeClaim {
  customerId: string;
  /** The topic unsubscribed from; `marketing` unless a message says otherwise. */
  topic: string;
  /**
   * Expiry, epoch ms; none by default. People unsubscribe from the email in front of them, which
   * may be a year old, and a mail client's Unsubscribe button posts the `List-Unsubscribe` URL of
   * that very email: a link that ran out kept them getting mail they had asked to stop.
   */
  exp?: number;
}

/** A signed token for the `List-Unsubscribe` URL; no cookie or session needed. */
export function createUnsubscribeToken(secret: string, claim: UnsubscribeClaim): string {
  return sealToken(secret, {
    c: claim.customerId,
    t: claim.topic,
    ...(claim.exp === undefined ? {} : { e: claim.exp }),
  });
}

/** The claim of a valid token, unexpired if it carries an expiry, or `undefined`. */
export function verifyUnsubscribeToken(
  secret: string,
  token: string,
  now: number,
): UnsubscribeClaim | undefined {
  const { c, t, e } = (openToken(secret, token) ?? {}) as Record<string, unknown>;
  if (typeof c !== 'string' || typeof t !== 'string') return undefined;
  if (e === undefined) return { customerId: c, topic: t };
  if (typeof e !== 'number' || e < now) return undefined;
  return { customerId: c, topic: t, exp: e };
}

export function unsubscribeUrl(baseUrl: string, token: string): string {
  return `${baseUrl.replace(/\/+$/, '')}/v1/unsubscribe?token=${encodeURIComponent(token)}`;
}
