import { createHmac, timingSafeEqual } from 'node:crypto';

/** What a one-click unsubscribe link stands for. */
export interface UnsubscribeClaim {
  customerId: string;
  /** The topic unsubscribed from; `marketing` unless a message says otherwise. */
  topic: string;
  /** Expiry, epoch ms. */
  exp: number;
}

function sign(secret: string, payload: string): string {
  return createHmac('sha256', secret).update(payload).digest('base64url');
}

/** A signed, expiring token for the `List-Unsubscribe` URL; no cookie or session needed. */
export function createUnsubscribeToken(secret: string, claim: UnsubscribeClaim): string {
  const payload = Buffer.from(JSON.stringify({ c: claim.customerId, t: claim.topic, e: claim.exp })).toString(
    'base64url',
  );
  return `${payload}.${sign(secret, payload)}`;
}

/** The claim of a valid, unexpired token, or `undefined`. */
export function verifyUnsubscribeToken(
  secret: string,
  token: string,
  now: number,
): UnsubscribeClaim | undefined {
  const [payload, signature] = token.split('.');
  if (!payload || !signature) return undefined;
  const expected = Buffer.from(sign(secret, payload));
  const given = Buffer.from(signature);
  if (expected.length !== given.length || !timingSafeEqual(expected, given)) return undefined;
  try {
    const { c, t, e } = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as {
      c: unknown;
      t: unknown;
      e: unknown;
    };
    if (typeof c !== 'string' || typeof t !== 'string' || typeof e !== 'number' || e < now) return undefined;
    return { customerId: c, topic: t, exp: e };
  } catch {
    return undefined;
  }
}

export function unsubscribeUrl(baseUrl: string, token: string): string {
  return `${baseUrl.replace(/\/+$/, '')}/v1/unsubscribe?token=${encodeURIComponent(token)}`;
}
