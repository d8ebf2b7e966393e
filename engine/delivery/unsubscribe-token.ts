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

/**
 * A signed token for the `List-Unsubscribe` URL; no cookie or session needed.
 *
 * The claim is sealed as JSON (`<base64url JSON>.<MAC>`). A long customer id written in JSON can
 * grow past what a header line holds (RFC 5322: 998 characters; a URL cannot be folded): a user
 * id may have 256 characters, each up to three UTF-8 bytes, or six characters for a control
 * character escaped in JSON. A token longer than MAX_JSON_TOKEN_LENGTH is therefore written in the
 * compact form `<customer id as UTF-16 bytes, base64url>.<base64url JSON of the rest>.<MAC>`,
 * two bytes a character whatever the id holds: under 780 characters for the `marketing` topic.
 */
export function createUnsubscribeToken(secret: string, claim: UnsubscribeClaim): string {
  const rest = { t: claim.topic, ...(claim.exp === undefined ? {} : { e: claim.exp }) };
  const token = sealToken(secret, { c: claim.customerId, ...rest });
  if (token.length <= MAX_JSON_TOKEN_LENGTH) return token;
  const id = Buffer.from(claim.customerId, 'utf16le').toString('base64url');
  return `${id}.${sealToken(secret, rest, compactPurpose(id))}`;
}

/** The longest token written as JSON; a customer id of ordinary length stays well under it. */
const MAX_JSON_TOKEN_LENGTH = 600;

/** The compact form's MAC covers its customer id too: signed as the purpose, so no other token passes for it. */
const compactPurpose = (id: string) => ({ purpose: `unsubscribe-id.${id}` });

/** The claim of a valid token, unexpired if it carries an expiry, or `undefined`. */
export function verifyUnsubscribeToken(
  secret: string,
  token: string,
  now: number,
): UnsubscribeClaim | undefined {
  const parts = token.split('.');
  let fields: Record<string, unknown>;
  if (parts.length === 3) {
    const [id = '', payload, signature] = parts;
    const rest = openToken(secret, `${payload}.${signature}`, compactPurpose(id));
    if (rest === null || typeof rest !== 'object' || id === '') return undefined;
    fields = { ...(rest as Record<string, unknown>), c: Buffer.from(id, 'base64url').toString('utf16le') };
  } else {
    fields = (openToken(secret, token) ?? {}) as Record<string, unknown>;
  }
  const { c, t, e } = fields;
  if (typeof c !== 'string' || typeof t !== 'string') return undefined;
  if (e === undefined) return { customerId: c, topic: t };
  if (typeof e !== 'number' || e < now) return undefined;
  return { customerId: c, topic: t, exp: e };
}

export function unsubscribeUrl(baseUrl: string, token: string): string {
  return `${baseUrl.replace(/\/+$/, '')}/v1/unsubscribe?token=${encodeURIComponent(token)}`;
}
