import { createHmac, timingSafeEqual } from 'node:crypto';

/** A form's fields as Twilio signs them: each name once, with every value it was sent with. */
export type TwilioParams = Readonly<Record<string, string | readonly string[]>>;

/**
 * The `X-Twilio-Signature` Twilio sends with a webhook to `url`: HMAC-SHA1, keyed with the account's
 * auth token, over the full URL (query string included) followed by each POST parameter's name and
 * value, sorted by name (a repeated name's values sorted too), in base64.
 * See https://www.twilio.com/docs/usage/webhooks/webhooks-security.
 *
 * @example
 * twilioSignature('12345', 'https://mycompany.com/myapp.php?foo=1&bar=2', { From: '+14158675310' });
 */
export function twilioSignature(authToken: string, url: string, params: TwilioParams): string {
  const hmac = createHmac('sha1', authToken).update(url, 'utf8');
  for (const name of Object.keys(params).sort()) {
    const value = params[name]!;
    const values = typeof value === 'string' ? [value] : [...value].sort();
    for (const each of values) hmac.update(name + each, 'utf8');
  }
  return hmac.digest('base64');
}

/**
 * Whether `signature` is Twilio's for a request to `url` with `params`, compared in constant time.
 * The URL is also tried with its scheme's default port written out or left out: Twilio signs the
 * URL as it was configured, and `https://host/…` and `https://host:443/…` reach the same place.
 */
export function isTwilioSignatureValid(
  authToken: string,
  signature: string | undefined,
  url: string,
  params: TwilioParams,
): boolean {
  if (signature === undefined || signature === '') return false;
  const given = Buffer.from(signature, 'utf8');
  return urlVariants(url).some((candidate) => {
    const expected = Buffer.from(twilioSignature(authToken, candidate, params), 'utf8');
    return expected.length === given.length && timingSafeEqual(expected, given);
  });
}

const DEFAULT_PORT: Readonly<Record<string, string>> = { 'http:': '80', 'https:': '443' };

/** `url`, and the same with the scheme's default port written out, or left out where it was written. */
function urlVariants(url: string): string[] {
  const parts = /^(https?:)\/\/([^/?#]*)(.*)$/i.exec(url);
  if (!parts) return [url];
  const [, scheme, authority, rest] = parts as unknown as [string, string, string, string];
  const port = DEFAULT_PORT[scheme.toLowerCase()]!;
  // An IPv6 host's colons are inside its brackets: only digits after the last colon are a port.
  const withPort = /:(\d+)$/.exec(authority);
  if (withPort)
    return withPort[1] === port ? [url, `${scheme}//${authority.slice(0, withPort.index)}${rest}`] : [url];
  return [url, `${scheme}//${authority}:${port}${rest}`];
}
