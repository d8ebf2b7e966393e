import { decodeHtmlEntities } from './html-entities.js';

const BLOCK_END = /<\/(p|div|h[1-6]|li|tr|table|ul|ol|blockquote|section|header|footer)\s*>/gi;
// Cells side by side: a table written on one line (as minifiers and email builders leave it) would
// run `<td>Subtotal</td><td>€12.50</td>` together as "Subtotal€12.50".
const CELL_END = /<\/t[dh]\s*>/gi;

/**
 * Whitespace tidied for plain text: spaces collapsed, lines trimmed, at most one blank line. A line
 * of two dashes alone is the signature separator, written `-- ` (dash dash space) as mail clients
 * expect it (RFC 3676 4.3) to grey out or leave out of a reply what follows: trimming took its space,
 * and editors that strip trailing whitespace take it from the template before that.
 */
export function tidyText(text: string): string {
  return text
    .replace(/\r\n?/g, '\n')
    .replace(/[ \t\f\v]+/g, ' ')
    .split('\n')
    .map((line) => (line.trim() === '--' ? SIGNATURE_SEPARATOR : line.trim()))
    .join('\n')
    .replace(/\n{3,}/g, '\n\n')
    .trim();
}

const SIGNATURE_SEPARATOR = '-- ';

// ASCII whitespace only: the no-break spaces Intl puts in "12,50 €" must stay unbroken.
const SPACE = /[ \t\r\n\f\v]+/g;

/** All whitespace collapsed to single spaces: for one-line fields such as a subject. */
export function oneLine(text: string): string {
  return text.replace(SPACE, ' ').trim();
}

// A tag's attributes, whose quoted values may hold `>` (title="Save > 20%"), as a browser reads them.
const ATTRIBUTES = `(?:"[^"]*"|'[^']*'|[^'">])*`;
// A tag, a doctype or a processing instruction: a `<` before anything else is text.
const TAG = new RegExp(`<[a-zA-Z/!?]${ATTRIBUTES}>`, 'g');
const LIST_ITEM = new RegExp(`<li\\b${ATTRIBUTES}>`, 'gi');
// A link: its attributes and what it holds; and its href, quoted or not (as minifiers write it),
// as utm.ts reads it.
const LINK = new RegExp(`<a\\b(${ATTRIBUTES})>([\\s\\S]*?)<\\/a\\s*>`, 'gi');
const HREF = /\shref\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'>]+))/i;
// An image's tag and its alt text.
const IMAGE = new RegExp(`<img\\b${ATTRIBUTES}>`, 'gi');
const ALT = /\salt\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'>]+))/i;

/**
 * Each image written as its alt text: a banner or button drawn as an image is often all a link
 * holds, and without it the text part would show its URL with no word of where it leads.
 */
function withImageAlts(html: string): string {
  return html.replace(IMAGE, (tag) => {
    const alt = ALT.exec(tag.replace(/^<img/i, ' '));
    return alt ? ` ${alt[1] ?? alt[2] ?? alt[3] ?? ''} ` : '';
  });
}

/**
 * The text part of an email derived from its HTML: tags stripped, each link kept as
 * `label (url)` (an image in a link by its alt text), paragraphs and line breaks kept, whitespace collapsed, entities decoded.
 *
 * @example
 * htmlToText('<p>Hi <a href="https://x.com/a">our blends</a></p>'); // 'Hi our blends (https://x.com/a)'
 */
export function htmlToText(html: string): string {
  const text = html
    .replace(/<!--[\s\S]*?-->/g, '')
    .replace(/<(head|style|script|title)\b[\s\S]*?<\/\1\s*>/gi, '')
    .replace(SPACE, ' ')
    .replace(LINK, (_link, attributes: string, inner: string) => {
      const href = HREF.exec(attributes);
      if (!href) return inner;
      // Still encoded: the whole text is decoded once at the end.
      const url = (href[1] ?? href[2] ?? href[3] ?? '').trim();
      const label = oneLine(withImageAlts(inner).replace(TAG, ''));
      if (label === '' || decodeHtmlEntities(label) === decodeHtmlEntities(url)) return url;
      return url === '' ? label : `${label} (${url})`;
    })
    .replace(/<br\s*\/?>/gi, '\n')
    .replace(LIST_ITEM, '\n- ')
    .replace(BLOCK_END, '\n\n')
    .replace(CELL_END, ' ')
    .replace(TAG, '');
  return tidyText(decodeHtmlEntities(text));
}
