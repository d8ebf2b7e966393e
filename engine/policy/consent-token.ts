import { openToken, sealToken } from '../signed-token.js';
import { ConsentChannel, Topic } from './topic.js';

/** What a double opt-in confirmation link stands for. */
export interface ConsentClaim {
  customerId: string;
  channel: ConsentChannel;
  topic: Topic;
  /** Expiry, epoch ms. */
  exp: number;
  /**
   * The `at` of the pending request the link was made for: it confirms that request only, not a
   * later one (asked for another address, say). Absent from links made before it was recorded.
   */
  requestedAt?: number;
}

// Signed under a purpose of its own, so an unsubscribe token (same secret) never passes as a
// confirmation and a confirmation never as an unsubscribe.
const PURPOSE = { purpose: 'consent-confirm' };

/** A signed, expiring token for the double opt-in link, in the style of the unsubscribe token. */
export function createConsentToken(secret: string, claim: ConsentClaim): string {
  return sealToken(
    secret,
    {
      c: claim.customerId,
      ch: claim.channel,
      t: claim.topic,
      e: claim.exp,
      ...(claim.requestedAt === undefined ? {} : { r: claim.requestedAt }),
    },
    PURPOSE,
  );
}

/** The claim of a valid, unexpired token, or `undefined`. */
export function verifyConsentToken(secret: string, token: string, now: number): ConsentClaim | undefined {
  const { c, ch, t, e, r } = (openToken(secret, token, PURPOSE) ?? {}) as Record<string, unknown>;
  const channel = ConsentChannel.safeParse(ch);
  const topic = Topic.safeParse(t);
  if (typeof c !== 'string' || typeof e !== 'number' || e < now || !channel.success || !topic.success)
    return undefined;
  if (r !== undefined && typeof r !== 'number') return undefined;
  return {
    customerId: c,
    channel: channel.data,
    topic: topic.data,
    exp: e,
    ...(r === undefined ? {} : { requestedAt: r }),
  };
}

export function consentConfirmUrl(baseUrl: string, token: string): string {
  return `${baseUrl.replace(/\/+$/, '')}/v1/consent/confirm?token=${encodeURIComponent(token)}`;
}
