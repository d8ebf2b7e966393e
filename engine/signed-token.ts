import { createHmac, timingSafeEqual } from 'node:crypto';

export interface SignedTokenOptions {
  /**
   * Signed along with the payload, so a token made for one purpose never passes for another
   * under the same secret. Empty (the default) for unsubscribe tokens, the first kind.
   */
  purpose?: string;
  /** Bytes of the HMAC-SHA256 kept; 32 (all) by default. Tokens that travel in SMS use 16. */
  macBytes?: number;
}

function mac(secret: string, payload: string, options: SignedTokenOptions): string {
  const hmac = createHmac('sha256', secret);
  if (options.purpose) hmac.update(`${options.purpose}.`);
  return hmac
    .update(payload)
    .digest()
    .subarray(0, options.macBytes ?? 32)
    .toString('base64url');
}

/**
 * `<base64url JSON>.<base64url HMAC>`: a link's claims carried in the link itself, readable
 * but not forgeable, so following it needs no cookie, session or lookup.
 */
export function sealToken(secret: string, payload: unknown, options: SignedTokenOptions = {}): string {
  const encoded = Buffer.from(JSON.stringify(payload)).toString('base64url');
  return `${encoded}.${mac(secret, encoded, options)}`;
}

/** The payload of a token this secret signed for this purpose, or `undefined` for any other string. */
export function openToken(secret: string, token: string, options: SignedTokenOptions = {}): unknown {
  const [payload, signature, extra] = token.split('.');
  if (!payload || !signature || extra !== undefined) return undefined;
  const expected = Buffer.from(mac(secret, payload, options));
  const given = Buffer.from(signature);
  if (expected.length !== given.length || !timingSafeEqual(expected, given)) return undefined;
  try {
    return JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as unknown;
  } catch {
    return undefined;
  }
}

/**
 * The claim of the first of `secrets` that `verify` accepts, else undefined: the current secret
 * first, then the ones it had before a rotation, whose links are still out there.
 */
export function verifyWithAny<Claim>(
  secrets: readonly string[],
  verify: (secret: string) => Claim | undefined,
): Claim | undefined {
  for (const secret of secrets) {
    const claim = verify(secret);
    if (claim !== undefined) return claim;
  }
  return undefined;
}
