import { z } from 'zod';
import { ChorusError } from '../errors.js';
import type { TemplateSet } from './template-set.js';

const NOT_A_HOST = 'a host name such as shop.example.com, or *.example.com for its subdomains';

/**
 * A host the brand's links may lead to: `shop.example.com`, or `*.example.com` for every
 * subdomain of example.com (not example.com itself: list it too). Read in lower case, an
 * international name in punycode, as a link's host is compared.
 */
export const BrandLinkHost = z
  .string()
  .trim()
  .transform((value, ctx) => {
    const wildcard = value.startsWith('*.');
    const name = wildcard ? value.slice(2) : value;
    // Only a name: a scheme, port, path or user would be dropped or misread by the URL parser.
    const host = /^[^\s/?#:@*\\[\]]+$/.test(name) ? hostnameOf(`https://${name}/`) : undefined;
    if (host === undefined) {
      ctx.addIssue({ code: 'custom', message: NOT_A_HOST });
      return z.NEVER;
    }
    return wildcard ? `*.${host}` : host;
  });
export type BrandLinkHost = z.infer<typeof BrandLinkHost>;

/** `brandLinkHosts` given to the renderer held something that is no host name. */
export class BrandLinkHostsError extends ChorusError {
  readonly host: string;
  constructor(host: string) {
    super(
      'CHORUS_BRAND_LINK_HOSTS_INVALID',
      `brandLinkHosts: "${host.slice(0, 100)}" is not ${NOT_A_HOST}. To fix: give the host alone, without https:// or a path.`,
    );
    this.host = host;
  }
}

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
 *
 * @throws BrandLinkHostsError when a configured host is no host name.
 */
export class BrandHosts {
  readonly #byMessage = new Map<string, Set<string>>();
  readonly #exact: ReadonlySet<string>;
  readonly #suffixes: readonly string[];

  constructor(templates: TemplateSet, configured: readonly string[] = []) {
    const hosts = configured.map((host) => {
      const parsed = BrandLinkHost.safeParse(host);
      if (!parsed.success) throw new BrandLinkHostsError(host);
      return parsed.data;
    });
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
