import { z } from 'zod';
import type { TemplateSet } from './template-set.js';

/**
 * A host the brand's links may lead to: `shop.example.com`, or `*.example.com` for every
 * subdomain of example.com (not example.com itself: list it too).
 */
export const BrandLinkHost = z
  .string()
  .trim()
  .toLowerCase()
  .refine((value) => {
    const host = value.startsWith('*.') ? value.slice(2) : value;
    return hostnameOf(`https://${host}/`) === host && !host.includes('*');
  }, 'a host name such as shop.example.com, or *.example.com for its subdomains');
export type BrandLinkHost = z.infer<typeof BrandLinkHost>;

/** A comma-separated list of {@link BrandLinkHost}s, as BRAND_LINK_HOSTS writes them. */
export const BrandLinkHosts = z
  .string()
  .transform((value) =>
    value
      .split(',')
      .map((host) => host.trim())
      .filter(Boolean),
  )
  .pipe(z.array(BrandLinkHost));

/** The host of an http(s) URL, lower case and in punycode; `undefined` for any other string. */
export function hostnameOf(url: string): string | undefined {
  try {
    const parsed = new URL(url);
    return parsed.protocol === 'http:' || parsed.protocol === 'https:' ? parsed.hostname : undefined;
  } catch {
    return undefined;
  }
}

// A URL as written in a template's source ends at what cannot be in one, and at a `{{`: what
// follows is filled in from data, so only the text before it counts as the brand's.
const LITERAL_URL = /https?:\/\/[^\s"'<>(){}\\`]+/gi;

/** The hosts of the http(s) URLs written literally in a template's source. */
export function literalHosts(source: string): string[] {
  return [...source.matchAll(LITERAL_URL)].flatMap((match) => {
    const host = hostnameOf(match[0]);
    return host === undefined ? [] : [host];
  });
}

/**
 * Which links of a message lead where the brand chose: to the host of its CTA, to the host of a
 * URL written in its templates or in the brand's partials and layouts (known when the templates
 * load), or to a configured host (BRAND_LINK_HOSTS). Only such links get UTM parameters and are
 * tracked; a URL that data alone names (a customer's `website` trait, an event property) is sent
 * as rendered, so that nobody gets a redirect signed on the brand's domain to a page of their choosing.
 *
 * @example
 * const brand = new BrandHosts(templates, ['shop.example.com', '*.example.org']);
 * brand.allows('welcome', 'https://evil.example/'); // false
 */
export class BrandHosts {
  readonly #byMessage = new Map<string, Set<string>>();
  readonly #exact: ReadonlySet<string>;
  readonly #suffixes: readonly string[];

  constructor(templates: TemplateSet, configured: readonly string[] = []) {
    const hosts = configured.map((host) => BrandLinkHost.parse(host));
    this.#exact = new Set(hosts.filter((host) => !host.startsWith('*.')));
    this.#suffixes = hosts.filter((host) => host.startsWith('*.')).map((host) => host.slice(1));
    // Any message may include any partial, so the hosts of every one of them count for all.
    const shared = [...templates.partials.values()].flatMap((file) => literalHosts(file.source));
    for (const id of templates.messageIds()) {
      const cta = hostnameOf(templates.message(id)?.cta.url ?? '');
      this.#byMessage.set(id, new Set([...shared, ...(cta === undefined ? [] : [cta])]));
    }
    for (const { file, message } of templates.files()) {
      const own = message === undefined ? undefined : this.#byMessage.get(message);
      if (own !== undefined) for (const host of literalHosts(file.source)) own.add(host);
    }
  }

  /** Whether `url` is an http(s) link to a host the brand chose for message `messageId`. */
  allows(messageId: string, url: string): boolean {
    const host = hostnameOf(url);
    if (host === undefined) return false;
    if (this.#exact.has(host) || this.#byMessage.get(messageId)?.has(host) === true) return true;
    return this.#suffixes.some((suffix) => host.endsWith(suffix));
  }
}
