import { decodeHtmlEntities, htmlLinks } from './utm.js';

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

// A comment, or a tag: its closing slash, name and attributes (quoted values may hold `>`).
const TOKEN = /<!--[\s\S]*?(?:-->|$)|<(\/?)([a-zA-Z][a-zA-Z0-9-]*)((?:"[^"]*"|'[^']*'|[^'">])*)>/g;

const HIDDEN_ATTRIBUTE = /(?:^|\s)hidden(?:\s*=|\s|\/|$)/i;
const STYLE = /(?:^|\s)style\s*=\s*(?:"([^"]*)"|'([^']*)')/i;
// The inline styles email clients honour to hide an element (`mso-hide: all` for Outlook).
const HIDING_STYLE =
  /(?:^|;)\s*(?:display\s*:\s*none|visibility\s*:\s*hidden|mso-hide\s*:\s*all)\s*(?:!important\s*)?(?:;|$)/i;

/** Whether an element's attributes hide it: `hidden`, or an inline style that does. */
function hides(attributes: string): boolean {
  if (HIDDEN_ATTRIBUTE.test(attributes.replace(/"[^"]*"|'[^']*'/g, '""'))) return true;
  const style = STYLE.exec(attributes);
  if (!style) return false;
  return HIDING_STYLE.test(decodeHtmlEntities(style[1] ?? style[2] ?? '').toLowerCase());
}

/**
 * The part of an HTML document a reader sees: without comments, the head, `<style>`, `<script>`,
 * `<template>`, and elements hidden by the `hidden` attribute or an inline `display: none`,
 * `visibility: hidden` or `mso-hide: all`, with everything inside them. The core-message check
 * reads this, so a headline or CTA only in a comment or a hidden element does not count as carried.
 *
 * @example
 * visibleHtml('<p>Hi</p><!-- <a href="https://x.com">x</a> --><div style="display:none">y</div>'); // '<p>Hi</p>'
 */
export function visibleHtml(html: string): string {
  let out = '';
  let copiedTo = 0;
  // While skipping: the element being skipped and how deep inside nested ones of its name.
  let skipping: { name: string; depth: number } | undefined;
  for (const match of html.matchAll(TOKEN)) {
    const [token, closing, rawName, attributes = ''] = match;
    const at = match.index;
    if (rawName === undefined) {
      // A comment: never seen, also inside a skipped element.
      if (!skipping) out += html.slice(copiedTo, at);
      copiedTo = at + token.length;
      continue;
    }
    const name = rawName.toLowerCase();
    if (skipping) {
      if (name === skipping.name && !VOID.has(name)) {
        if (closing) skipping.depth -= 1;
        else if (!attributes.trimEnd().endsWith('/')) skipping.depth += 1;
        if (skipping.depth === 0) {
          skipping = undefined;
          copiedTo = at + token.length;
        }
      }
      continue;
    }
    if (closing || !(UNSEEN_BLOCKS.has(name) || hides(attributes))) continue;
    out += html.slice(copiedTo, at);
    copiedTo = at + token.length;
    if (!VOID.has(name) && !attributes.trimEnd().endsWith('/')) skipping = { name, depth: 1 };
  }
  // An element left open hides the rest of the document.
  if (!skipping) out += html.slice(copiedTo);
  return out;
}

// Any tag but a link's (`<a>`, `<area>`): its `href` (a `<link>`, a `<base>`) takes no one anywhere.
const NOT_A_LINK = /<(?!\/?(?:a|area)[\s/>])[a-zA-Z](?:"[^"]*"|'[^']*'|[^'">])*>/gi;

/**
 * The links a reader of an HTML document can follow: the `href` of each visible `<a>` and `<area>`,
 * and the bare URLs in its visible text, decoded.
 *
 * @example
 * visibleLinks('<link href="https://x.com/a"><a href="https://x.com/b">b</a>'); // ['https://x.com/b']
 */
export function visibleLinks(html: string): string[] {
  return htmlLinks(visibleHtml(html).replace(NOT_A_LINK, '<span>'));
}
