import { decodeHtmlEntities } from './html-entities.js';

/** The campaign parameters Chorus adds to links. */
export interface UtmParams {
  /** `utm_source`: who sent it, `chorus` by default. */
  source: string;
  /** `utm_medium`: the channel. */
  medium: string;
  /** `utm_campaign`: the journey id. */
  campaign: string;
  /** `utm_content`: `${message}-${variant}`. */
  content: string;
}

/**
 * Split variants as one label for headers and `utm_content`: `split=variant,…` sorted by split,
 * or `control` when the customer passed no split.
 */
export function variantLabel(variants: Readonly<Record<string, string>>): string {
  const entries = Object.entries(variants).sort(([a], [b]) => a.localeCompare(b));
  return entries.length === 0
    ? 'control'
    : entries.map(([split, variant]) => `${split}=${variant}`).join(',');
}

function isHttpUrl(url: string): URL | undefined {
  try {
    const parsed = new URL(url);
    return parsed.protocol === 'http:' || parsed.protocol === 'https:' ? parsed : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Adds `utm_source`, `utm_medium`, `utm_campaign` and `utm_content` to an http(s) URL. Parameters
 * already present are kept byte for byte and never overwritten; other URLs (`mailto:`, `tel:`,
 * relative or unreadable ones) and signed ones (a `Signature`, `X-Amz-Signature` or
 * `X-Goog-Signature` parameter) are returned unchanged. Adding twice changes nothing.
 *
 * @example
 * withUtm('https://example.com/blends?utm_source=ig', { source: 'chorus', medium: 'email', campaign: 'onboarding', content: 'welcome-control' });
 * // 'https://example.com/blends?utm_source=ig&utm_medium=email&utm_campaign=onboarding&utm_content=welcome-control'
 */
export function withUtm(url: string, params: UtmParams): string {
  return withUtmKeyed(url, params, paramsKey(params));
}

// Every send of a message tags the same links with the same parameters: remember the answers.
// JSON holds no raw newline, so the first one ends the parameters and the key reads one way only.
function paramsKey(params: UtmParams): string {
  return `${JSON.stringify([params.source, params.medium, params.campaign, params.content])}\n`;
}

/** `withUtm` with the parameters' part of the cache key made once per document, not per link. */
function withUtmKeyed(url: string, params: UtmParams, prefix: string): string {
  const key = prefix + url;
  let tagged = taggedUrls.get(key);
  if (tagged === undefined) {
    tagged = tag(url, params);
    if (taggedUrls.size >= TAGGED_CACHE_SIZE) taggedUrls.clear();
    taggedUrls.set(key, tagged);
  }
  return tagged;
}

const TAGGED_CACHE_SIZE = 5_000;
const taggedUrls = new Map<string, string>();

// A URL signed over its query (presigned S3 and Cloud Storage downloads, CloudFront and Laravel
// signed links) fails its signature with any parameter added: the person got a 403, not the file.
const SIGNATURE_PARAMETER = /^(?:x-(?:amz|goog)-)?signature$/i;

function tag(url: string, params: UtmParams): string {
  const parsed = isHttpUrl(url);
  if (!parsed) return url;
  for (const key of parsed.searchParams.keys()) if (SIGNATURE_PARAMETER.test(key)) return url;
  const wanted: Array<[string, string]> = [
    ['utm_source', params.source],
    ['utm_medium', params.medium],
    ['utm_campaign', params.campaign],
    ['utm_content', params.content],
  ];
  const added = wanted
    .filter(([key]) => !parsed.searchParams.has(key))
    .map(([key, value]) => `${key}=${encodeURIComponent(value)}`);
  if (added.length === 0) return url;
  // Appended to the original string rather than through URLSearchParams, which would re-encode
  // the parameters already there (spaces, bare flags) and so change links the author wrote.
  const hashAt = url.indexOf('#');
  const beforeHash = hashAt === -1 ? url : url.slice(0, hashAt);
  const hash = hashAt === -1 ? '' : url.slice(hashAt);
  const separator = !beforeHash.includes('?') ? '?' : /[?&]$/.test(beforeHash) ? '' : '&';
  return `${beforeHash}${separator}${added.join('&')}${hash}`;
}

/** The URL without its `utm_*` parameters, normalised: what two links to one target share. */
export function withoutUtm(url: string): string {
  const parsed = isHttpUrl(url);
  if (!parsed) return url;
  for (const key of [...parsed.searchParams.keys()]) {
    if (key.startsWith('utm_')) parsed.searchParams.delete(key);
  }
  return parsed.href;
}

const NEEDS_ESCAPE = /[&"']/;

function escapeHtmlUrl(value: string): string {
  if (!NEEDS_ESCAPE.test(value)) return value;
  return value.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}

// A URL ends before whitespace, double quotes or angle brackets (in HTML text, also before a
// character reference for one, see beforeEndingReference); trailing punctuation (an apostrophe
// closing a quotation among it: one inside is the URL's own, /wiki/Hitchhiker's_Guide), and a
// closing parenthesis the URL did not open, are left to the sentence ("see https://x.com/a." or
// "label (https://x.com)"), while one it did open is kept (https://en.wikipedia.org/wiki/Tea_(drink)),
// as GitHub's autolinks do. A `;` closing a character reference (`&amp;`) in HTML is part of the URL.
// Chinese and Japanese punctuation (。、，：「」（）, full-width forms) ends a URL wherever it stands:
// those sentences put no space around a URL, and no URL is written with it. Letters of any script
// are kept (https://ja.wikipedia.org/wiki/東京).
const NOT_IN_URL = String.raw`\s<>"\u3000-\u303f\uff00-\uffef`;
const BARE_URL = new RegExp(String.raw`https?:\/\/[^${NOT_IN_URL}]+`, 'g');
const ENDS_URL = new RegExp(`[${NOT_IN_URL}']`);
const CHARACTER_REFERENCE = /&(?:#x[0-9a-f]+|#[0-9]+|[a-z]+);/gi;
// Quoted, or not (as HTML minifiers leave it): a browser reads an unquoted value to a space or `>`.
const HREF = /(\shref\s*=\s*)(?:(["'])(.*?)\2|([^\s>"'][^\s>]*))/gis;
// The ASCII whitespace the URL parser strips from both ends of an href (not NBSP, which it keeps).
const HREF_EDGE_WHITESPACE = /^[\t\n\f\r ]+|[\t\n\f\r ]+$/g;
// Most tags of an email (tables, cells, paragraphs) have no `href`: they are passed by untouched.
const MAY_HAVE_HREF = /href/i;
// A tag, or a bare URL in the text between tags. Tags are matched first at every `<`, so no URL
// is ever taken from inside one; only the tag's `href`s are rewritten.
const TAG_OR_BARE_URL = new RegExp(String.raw`(<[^>]*>)|https?:\/\/[^${NOT_IN_URL}]+`, 'g');

const count = (text: string, char: string) => text.split(char).length - 1;

const isAlphanumeric = (code: number) =>
  (code >= 48 && code <= 57) || (code >= 65 && code <= 90) || (code >= 97 && code <= 122);

/** Whether the `;` at `at` closes a character reference (`&amp;`, `&#39;`, `&#x27;`). */
function closesReference(text: string, at: number): boolean {
  let start = at;
  while (start > 0 && isAlphanumeric(text.charCodeAt(start - 1))) start -= 1;
  if (start === at) return false;
  return text[start - 1] === '&' || (text[start - 1] === '#' && text[start - 2] === '&');
}

// Typographic punctuation that closes a sentence or quotation (… ” ’ » ›): never the end of a URL.
const TYPOGRAPHIC_CLOSE = /[\p{Pf}\p{Po}]/u;

/** Whether the character at `at` is punctuation ending a sentence rather than the URL. */
function isTrailingPunctuation(text: string, at: number): boolean {
  const char = text[at];
  if (char === ';') return !closesReference(text, at);
  if (char === '.' || char === ',' || char === ':' || char === '!' || char === '?' || char === "'")
    return true;
  // Other ASCII punctuation (`/`, `#`, `%`, `&`, `*`, `@`) may well end a URL itself, so it stays.
  return char !== undefined && text.charCodeAt(at) > 0x7f && TYPOGRAPHIC_CLOSE.test(char);
}

/**
 * Where a matched URL ends, walking back from the end once: past trailing punctuation and
 * closing parentheses the URL did not open, so a long run of either (a trait rendered into the
 * text may hold one) costs time linear in its length.
 */
function trimUrl(match: string): string {
  let end = match.length;
  let unopened: number | undefined;
  for (;;) {
    while (end > 0 && isTrailingPunctuation(match, end - 1)) end -= 1;
    if (match[end - 1] !== ')') break;
    unopened ??= count(match.slice(0, end), ')') - count(match.slice(0, end), '(');
    if (unopened <= 0) break;
    unopened -= 1;
    end -= 1;
  }
  return end === match.length ? match : match.slice(0, end);
}

const ONLY_PUNCTUATION = /^[.,:!?;)]*$/;

/** A typographic character closing a sentence or quotation: `…`, `”`, `’`, `»`. */
const isTypographicClose = (char: string) => char.charCodeAt(0) > 0x7f && TYPOGRAPHIC_CLOSE.test(char);

/** Whether decoded text holds nothing but punctuation closing a sentence or quotation. */
const onlyClosing = (text: string) =>
  [...text].every((char) => ONLY_PUNCTUATION.test(char) || isTypographicClose(char));

/**
 * In HTML text a URL also ends at a character reference for what ends it (`&nbsp;`, `&quot;`,
 * `&lt;`, `&#x27;`): an editor's non-breaking space after a link, or the quotes Handlebars
 * escaped around one, were read as part of the URL, which then led elsewhere. An apostrophe
 * (Handlebars writes a variable's as `&#x27;`) followed by more than punctuation is the URL's own
 * (/men's-shoes), as a literal one is; so is typographic punctuation (`&rdquo;`, `&hellip;`,
 * `&rsquo;`), which otherwise ends it as it does written as a character.
 */
function beforeEndingReference(match: string): string {
  if (!match.includes('&')) return match;
  for (const reference of match.matchAll(CHARACTER_REFERENCE)) {
    const char = decodeHtmlEntities(reference[0]);
    const closing = char === "'" || isTypographicClose(char);
    if (!ENDS_URL.test(char) && !closing) continue;
    const rest = match.slice(reference.index + reference[0].length);
    if (closing && !onlyClosing(decodeHtmlEntities(rest))) continue;
    return match.slice(0, reference.index);
  }
  return match;
}

/** Rewrites bare URLs in text; in HTML text the URL is decoded first and escaped again (minimally) after. */
function rewriteBareUrls(text: string, rewrite: (url: string) => string, html: boolean): string {
  return text.replace(BARE_URL, (match) => rewriteBareUrl(match, rewrite, html));
}

function rewriteBareUrl(match: string, rewrite: (url: string) => string, html: boolean): string {
  const raw = trimUrl(html ? beforeEndingReference(match) : match);
  const next = html ? escapeHtmlUrl(rewrite(decodeHtmlEntities(raw))) : rewrite(raw);
  return next === raw ? match : next + match.slice(raw.length);
}

// A mail client fetches a <link>'s stylesheet or icon and the URLs of CSS (a web font's @import, a
// background image) on every open; a person clicks none of them. Tagged and tracked, each open
// counted as a click. A <style> or <script> runs to its end tag (or, unclosed, the document's end).
const NOT_CLICKED_TAG = /^<(?:link|base)(?=[\s/>])/i;
const RAW_TEXT_ELEMENT = /<(style|script)(?=[\s/>])[^>]*>[\s\S]*?(?:<\/\1\s*>|$)/gi;
const MAY_HAVE_RAW_TEXT = /<(?:style|script)/i;

/**
 * Rewrites every link of an HTML document: `href` targets and bare URLs in its text, but not
 * what it fetches itself (see NOT_CLICKED_TAG).
 */
function rewriteHtmlLinks(html: string, rewrite: (url: string) => string): string {
  if (!MAY_HAVE_RAW_TEXT.test(html)) return rewriteMarkupLinks(html, rewrite);
  let out = '';
  let last = 0;
  for (const element of html.matchAll(RAW_TEXT_ELEMENT)) {
    out += rewriteMarkupLinks(html.slice(last, element.index), rewrite) + element[0];
    last = element.index + element[0].length;
  }
  return out + rewriteMarkupLinks(html.slice(last), rewrite);
}

/** Rewrites the links of HTML that holds no <style> or <script>. */
function rewriteMarkupLinks(html: string, rewrite: (url: string) => string): string {
  return html.replace(TAG_OR_BARE_URL, (match, tag: string | undefined) => {
    if (tag === undefined) return rewriteBareUrl(match, rewrite, true);
    if (!MAY_HAVE_HREF.test(tag) || NOT_CLICKED_TAG.test(tag)) return tag;
    return tag.replace(
      HREF,
      (attribute, prefix: string, quoted?: string, inQuotes?: string, bare?: string) => {
        const quote = quoted ?? '"';
        const raw = inQuotes ?? bare ?? '';
        // Written back with only `&` and `"` escaped: Handlebars also escapes `=` (`&#x3D;`), which
        // is valid but makes links hard to read in the source of an email. A browser drops the
        // whitespace around the URL (a template's line breaks, `{{#if}}` blocks), so it is dropped
        // before rewriting: parameters added after a trailing space would put the space in the path.
        const next = escapeHtmlUrl(rewrite(decodeHtmlEntities(raw).replace(HREF_EDGE_WHITESPACE, '')));
        return next === raw ? attribute : `${prefix}${quote}${next}${quote}`;
      },
    );
  });
}

/**
 * Passes every link of an HTML document (`href` targets and bare URLs in its text, decoded) through
 * `rewrite` and writes the results back, escaped.
 */
export function mapHtmlLinks(html: string, rewrite: (url: string) => string): string {
  return rewriteHtmlLinks(html, rewrite);
}

/** Passes every bare http(s) URL in plain text through `rewrite`. */
export function mapTextLinks(text: string, rewrite: (url: string) => string): string {
  return rewriteBareUrls(text, rewrite, false);
}

/** Every link of an HTML document, decoded: `href` targets and bare URLs in its text. */
export function htmlLinks(html: string): string[] {
  const links: string[] = [];
  rewriteHtmlLinks(html, (url) => {
    links.push(url);
    return url;
  });
  return links;
}

/** Every bare http(s) URL in plain text. */
export function textLinks(text: string): string[] {
  return [...text.matchAll(BARE_URL)].map((match) => trimUrl(match[0]));
}

/** Which links get parameters: all but those in `keep`, and of those only the ones `brand` takes. */
export interface UtmScope {
  /** Links left as written (the unsubscribe URL). */
  keep?: readonly string[];
  /** Whether a link leads where the brand chose (see BrandHosts); default every link. */
  brand?: (url: string) => boolean;
}

function tagger(params: UtmParams, scope: UtmScope): (url: string) => string {
  const prefix = paramsKey(params);
  const keep = scope.keep ?? [];
  const brand = scope.brand ?? (() => true);
  return (url) => (keep.includes(url) || !brand(url) ? url : withUtmKeyed(url, params, prefix));
}

/**
 * Adds UTM parameters to every http(s) link of an HTML document (`href` targets and bare URLs in
 * its text) in `scope`.
 */
export function addUtmToHtml(html: string, params: UtmParams, scope: UtmScope = {}): string {
  return rewriteHtmlLinks(html, tagger(params, scope));
}

/** Adds UTM parameters to every bare http(s) URL in plain text in `scope`. */
export function addUtmToText(text: string, params: UtmParams, scope: UtmScope = {}): string {
  return rewriteBareUrls(text, tagger(params, scope), false);
}

const WHOLE_URL = /^https?:\/\/\S+$/i;

/**
 * Adds UTM parameters to every string value of a JSON payload that is, as a whole, an http(s)
 * URL (`"cta": "https://…"`), at any depth, in `scope`; parameters already present are kept.
 * Keys, and URLs inside longer strings, are left as written: a webhook's receiver reads links from fields, and prose in a payload is shown, not clicked through from here.
 *
 * @example
 * addUtmToJson({ cta: 'https://example.com/blends', note: 'see https://example.com' }, utm);
 * // { cta: 'https://example.com/blends?utm_source=chorus&…', note: 'see https://example.com' }
 */
export function addUtmToJson<T>(value: T, params: UtmParams, scope: UtmScope = {}): T {
  const tag = tagger(params, scope);
  const walk = (node: unknown): unknown => {
    if (typeof node === 'string') return WHOLE_URL.test(node) ? tag(node) : node;
    if (Array.isArray(node)) return node.map(walk);
    if (typeof node === 'object' && node !== null) {
      return Object.fromEntries(Object.entries(node).map(([key, inner]) => [key, walk(inner)]));
    }
    return node;
  };
  // The walk only replaces strings with strings, so the payload keeps its shape.
  return walk(value) as T;
}
