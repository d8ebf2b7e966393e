import { createHmac, timingSafeEqual } from 'node:crypto';
import { ConsentChannel, Topic } from './topic.js';

/** What a double opt-in confirmation link stands for. */
export interface ConsentClaim {
  customerId: string;
  channel: ConsentChannel;
  topic: Topic;
  /** Expiry, epoch ms. */
  exp: number;
}

// Signed under a purpose of its own, so an unsubscribe token (same secret) never passes as a
// confirmation and a confirmation never as an unsubscribe.
function sign(secret: string, payload: string): string {
  return createHmac('sha256', secret).update(`consent-confirm.${payload}`).digest('base64url');
}

/** A signed, expiring token for the double opt-in link, in the style of the unsubscribe token. */
export function createConsentToken(secret: string, claim: ConsentClaim): string {
  const payload = Buffer.from(
    JSON.stringify({ c: claim.customerId, ch: claim.channel, t: claim.topic, e: claim.exp }),
  ).toString('base64url');
  return `${payload}.${sign(secret, payload)}`;
}

/** The claim of a valid, unexpired token, or `undefined`. */
export function verifyConsentToken(secret: string, token: string, now: number): ConsentClaim | undefined {
  const [payload, signature] = token.split('.');
  if (!payload || !signature) return undefined;
  const expected = Buffer.from(sign(secret, payload));
  const given = Buffer.from(signature);
  if (expected.length !== given.length || !timingSafeEqual(expected, given)) return undefined;
  try {
    const { c, ch, t, e } = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as Record<
      string,
      unknown
    >;
    const channel = ConsentChannel.safeParse(ch);
    const topic = Topic.safeParse(t);
    if (typeof c !== 'string' || typeof e !== 'number' || e < now || !channel.success || !topic.success)
      return undefined;
    return { customerId: c, channel: channel.data, topic: topic.data, exp: e };
  } catch {
    return undefined;
  }
}

export function consentConfirmUrl(baseUrl: string, token: string): string {
  return `${baseUrl.replace(/\/+$/, '')}/v1/consent/confirm?token=${encodeURIComponent(token)}`;
}
