import { decodeHtmlEntities } from './html-entities.js';
import { htmlLinks } from './utm.js';

// Blocks whose content no reader sees as the message: the document's head, styles and scripts.
const UNSEEN_BLOCKS = new Set(['head', 'title', 'style', 'script', 'template']);

// Elements that have no content and no closing tag.
const VOID = new Set([
  'area',
  'base',
  'br',
  'col',
  'embed',
  'hr',
  'img',
  'input',
  'link',
  'meta',
  'source',
  'track',
  'wbr',
]);

// A comment (`<!-->` and `<!--->` are empty ones, and `--!>` ends one too, as in a browser), or
// a tag: its closing slash, name and attributes (quoted values may hold `>`).
const TOKEN = /<!--(?:-?>|[\s\S]*?(?:--!?>|$))|<(\/?)([a-zA-Z][a-zA-Z0-9-]*)((?:"[^"]*"|'[^']*'|[^'">])*)>/;

// Where a self-closing slash is honoured: SVG and MathML. On an HTML element a browser ignores it,
// so `<div style="display:none"/>` hides what follows it, up to its parent's end.
const FOREIGN = new Set(['svg', 'math']);

// Elements whose content is text, not markup: a `</div>` in a script's string closes nothing.
const RAW_TEXT = new Set(['script', 'style', 'title', 'textarea', 'xmp']);

// The end tags HTML leaves out: a start tag of these names closes the nearest open element of the
// `closes` names, with everything open inside it, unless an element of the `within` names comes
// first (a nested list or table keeps the outer item or cell open).
const impliedEndRule = (closes: string[], within: string[]) => ({
  closes: new Set(closes),
  within: new Set(within),
});
const IMPLIED_END = new Map([
  ['li', impliedEndRule(['li'], ['ul', 'ol', 'menu', 'table'])],
  ['dt', impliedEndRule(['dt', 'dd'], ['dl', 'table'])],
  ['dd', impliedEndRule(['dt', 'dd'], ['dl', 'table'])],
  ['tr', impliedEndRule(['tr'], ['table'])],
  ['td', impliedEndRule(['td', 'th'], ['table', 'tr'])],
  ['th', impliedEndRule(['td', 'th'], ['table', 'tr'])],
  ['option', impliedEndRule(['option'], ['select', 'datalist', 'optgroup'])],
]);

/** The index in `open` of the element a start tag of `name` ends by implication, if any. */
function impliedEnd(open: readonly string[], name: string): number | undefined {
  const rule = IMPLIED_END.get(name);
  if (rule === undefined) return undefined;
  for (let index = open.length - 1; index >= 0; index--) {
    if (rule.closes.has(open[index]!)) return index;
    if (rule.within.has(open[index]!)) return undefined;
  }
  return undefined;
}

// Start tags that close an open paragraph.
const CLOSES_P = new Set(
  'address article aside blockquote div dl fieldset footer form h1 h2 h3 h4 h5 h6 header hr main nav ol p pre section table ul'.split(
    ' ',
  ),
);

const HIDDEN_ATTRIBUTE = /(?:^|\s)hidden(?:\s*=|\s|\/|$)/i;
const STYLE = /(?:^|\s)style\s*=\s*(?:"([^"]*)"|'([^']*)')/i;
// One declaration of an inline style, `!important` or not.
const declaration = (property: string, value: string) =>
  new RegExp(`(?:^|;)\\s*(?:${property})\\s*:\\s*(?:${value})\\s*(?:!important\\s*)?(?:;|$)`, 'i');
// The inline styles email clients honour to hide an element and all inside it (`mso-hide: all`
// for Outlook), or to make it transparent. `font-size: 0` is not one: responsive layouts set it
// on the columns' wrapper and a size back on what is inside.
const HIDING_STYLES = [
  declaration('display', 'none'),
  declaration('visibility', 'hidden'),
  declaration('mso-hide', 'all'),
  declaration('opacity', '(?:0+(?:\\.0*)?|\\.0+)%?'),
];
// A box of no height or width whose overflow is cut: the preheader that is not `display: none`.
const ZERO_BOX = declaration('(?:max-)?(?:height|width)', '0+(?:\\.0*)?(?:px|em|rem|%)?');
const OVERFLOW_HIDDEN = declaration('overflow', 'hidden');

/** Whether an element's attributes hide it: `hidden`, or an inline style that does. */
function hides(attributes: string): boolean {
  if (HIDDEN_ATTRIBUTE.test(attributes.replace(/"[^"]*"|'[^']*'/g, '""'))) return true;
  const style = STYLE.exec(attributes);
  if (!style) return false;
  const css = decodeHtmlEntities(style[1] ?? style[2] ?? '').toLowerCase();
  return (
    HIDING_STYLES.some((hiding) => hiding.test(css)) || (ZERO_BOX.test(css) && OVERFLOW_HIDDEN.test(css))
  );
}

/**
 * The part of an HTML document a reader sees: without comments, the head, `<style>`, `<script>`,
 * `<template>`, and elements hidden by the `hidden` attribute or an inline `display: none`,
 * `visibility: hidden`, `mso-hide: all`, `opacity: 0`, or a zero height or width with `overflow:
 * hidden`, with everything inside them. The core-message check reads this, so a headline or CTA
 * only in a comment or a hidden element does not count as carried.
 *
 * A hidden element ends where a browser ends it: at its end tag, or when an element it is inside
 * ends (its end tag left out), or where HTML implies its end (a `<td>` at the next `<td>`).
 *
 * @example
 * visibleHtml('<p>Hi</p><!-- <a href="https://x.com">x</a> --><div style="display:none">y</div>'); // '<p>Hi</p>'
 */
export function visibleHtml(html: string): string {
  let out = '';
  let copiedTo = 0;
  // The elements open where the scan is, outermost first.
  const open: string[] = [];
  // While inside a hidden element: how many elements are open around it.
  let hiddenAt: number | undefined;
  // Closes the open elements from `index` in; a hidden one among them ends, the tag at `resumeAt` on.
  const closeFrom = (index: number, resumeAt: number) => {
    open.length = index;
    if (hiddenAt !== undefined && index <= hiddenAt) {
      hiddenAt = undefined;
      copiedTo = resumeAt;
    }
  };
  // A scanner of its own: a raw-text element moves it on to its end tag.
  const token = new RegExp(TOKEN.source, 'g');
  let lowerCase: string | undefined;
  for (let match = token.exec(html); match !== null; match = token.exec(html)) {
    const [text, closing, rawName, attributes = ''] = match;
    const at = match.index;
    if (rawName === undefined) {
      // A comment: never seen, also inside a hidden element (whose end sets where copying resumes).
      if (hiddenAt === undefined) out += html.slice(copiedTo, at);
      copiedTo = at + text.length;
      continue;
    }
    const name = rawName.toLowerCase();
    if (closing) {
      const index = open.lastIndexOf(name);
      // An end tag of an element that is not open closes nothing, as in a browser.
      if (index !== -1) closeFrom(index, index === hiddenAt ? at + text.length : at);
      continue;
    }
    const implied =
      impliedEnd(open, name) ?? (open.at(-1) === 'p' && CLOSES_P.has(name) ? open.length - 1 : undefined);
    if (implied !== undefined) closeFrom(implied, at);
    const selfClosing = attributes.trimEnd().endsWith('/');
    const empty =
      VOID.has(name) || (selfClosing && (FOREIGN.has(name) || open.some((element) => FOREIGN.has(element))));
    if (hiddenAt === undefined && (UNSEEN_BLOCKS.has(name) || hides(attributes))) {
      out += html.slice(copiedTo, at);
      copiedTo = at + text.length;
      if (!empty) hiddenAt = open.length;
    }
    if (empty) continue;
    open.push(name);
    if (RAW_TEXT.has(name)) {
      // Its text runs to its end tag, whatever it holds; the end tag is then read as any other.
      lowerCase ??= html.toLowerCase();
      const end = lowerCase.indexOf(`</${name}`, token.lastIndex);
      token.lastIndex = end === -1 ? html.length : end;
    }
  }
  // An element left open to the end of the document hides the rest of it, as in a browser.
  if (hiddenAt === undefined) out += html.slice(copiedTo);
  return out;
}

// Any tag but a link's (`<a>`, `<area>`): its `href` (a `<link>`, a `<base>`) takes no one anywhere.
const NOT_A_LINK = /<(?!\/?(?:a|area)[\s/>])[a-zA-Z](?:"[^"]*"|'[^']*'|[^'">])*>/gi;

// A link and what it holds, up to its end tag.
const LINK = /<a\b(?:"[^"]*"|'[^']*'|[^'">])*>([\s\S]*?)<\/a\s*>/gi;
// What shows in a link besides its text: a button drawn as an image, an icon.
const SHOWN_CONTENT = /<(?:img|svg|picture|video|input|button|object|embed|iframe)\b/i;
// White space and the invisible characters of padding: a link holding only these shows nothing.
const BLANK = /[\s\u200b-\u200d\u2060\ufeff]/g;

/** Whether a link shows anything to click: text, or an image or other element that shows. */
function clickable(inner: string): boolean {
  return (
    SHOWN_CONTENT.test(inner) || decodeHtmlEntities(inner.replace(/<[^>]*>/g, '')).replace(BLANK, '') !== ''
  );
}

/**
 * The links a reader of an HTML document can follow: the `href` of each visible `<a>` that shows
 * something to click (a label behind `{{#if}}` that rendered empty leaves none) and `<area>`,
 * and the bare URLs in its visible text, decoded.
 *
 * @example
 * visibleLinks('<link href="https://x.com/a"><a href="https://x.com/b">b</a><a href="https://x.com/c"></a>'); // ['https://x.com/b']
 */
export function visibleLinks(html: string): string[] {
  const shown = visibleHtml(html).replace(LINK, (link, inner: string) => (clickable(inner) ? link : inner));
  return htmlLinks(shown.replace(NOT_A_LINK, '<span>'));
}
