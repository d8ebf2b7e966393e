// HTML 4's Latin-1 entities, U+00A0 to U+00FF in order: `&eacute;` and `&copy;` as editors write them.
const LATIN_1 =
  'nbsp iexcl cent pound curren yen brvbar sect uml copy ordf laquo not shy reg macr deg plusmn sup2 sup3 ' +
  'acute micro para middot cedil sup1 ordm raquo frac14 frac12 frac34 iquest Agrave Aacute Acirc Atilde ' +
  'Auml Aring AElig Ccedil Egrave Eacute Ecirc Euml Igrave Iacute Icirc Iuml ETH Ntilde Ograve Oacute Ocirc ' +
  'Otilde Ouml times Oslash Ugrave Uacute Ucirc Uuml Yacute THORN szlig agrave aacute acirc atilde auml ' +
  'aring aelig ccedil egrave eacute ecirc euml igrave iacute icirc iuml eth ntilde ograve oacute ocirc ' +
  'otilde ouml divide oslash ugrave uacute ucirc uuml yacute thorn yuml';

// The rest of what email HTML commonly holds, as `name:hex code point`: typography, currency,
// arrows and the invisible characters of preheader padding (`&zwnj;`).
const SPECIAL =
  'OElig:152 oelig:153 Scaron:160 scaron:161 Yuml:178 fnof:192 circ:2c6 tilde:2dc ensp:2002 emsp:2003 ' +
  'thinsp:2009 zwnj:200c zwj:200d lrm:200e rlm:200f ndash:2013 mdash:2014 lsquo:2018 rsquo:2019 ' +
  'sbquo:201a ldquo:201c rdquo:201d bdquo:201e dagger:2020 Dagger:2021 bull:2022 hellip:2026 ' +
  'permil:2030 prime:2032 Prime:2033 lsaquo:2039 rsaquo:203a euro:20ac trade:2122 larr:2190 uarr:2191 ' +
  'rarr:2192 darr:2193 harr:2194 hearts:2665';

const ENTITIES: ReadonlyMap<string, string> = new Map([
  ['amp', '&'],
  ['lt', '<'],
  ['gt', '>'],
  ['quot', '"'],
  ['apos', "'"],
  ...LATIN_1.split(' ').map((name, index): [string, string] => [name, String.fromCodePoint(0xa0 + index)]),
  ...SPECIAL.split(' ').map((pair): [string, string] => {
    const [name = '', code = ''] = pair.split(':');
    return [name, String.fromCodePoint(parseInt(code, 16))];
  }),
]);

// Names are case-sensitive (`&Eacute;` is not `&eacute;`); browsers also read these four in capitals.
const CAPITALISED = new Set(['AMP', 'LT', 'GT', 'QUOT']);

/**
 * Decodes the HTML character references Handlebars and authors commonly write: numeric ones,
 * and by name the escapes, Latin-1 letters and signs, typography and currency. A name not known
 * here is left as written.
 *
 * @example
 * decodeHtmlEntities('Caf&eacute; &mdash; &#x27;open&#39;'); // "Café — 'open'"
 */
export function decodeHtmlEntities(html: string): string {
  // Most links hold no reference at all: skip the regex and the string it would build.
  if (!html.includes('&')) return html;
  return html.replace(/&(#x[0-9a-f]+|#[0-9]+|[a-z][a-z0-9]*);/gi, (match, ref: string) => {
    if (ref.startsWith('#')) {
      const code = ref[1] === 'x' || ref[1] === 'X' ? parseInt(ref.slice(2), 16) : parseInt(ref.slice(1), 10);
      return Number.isFinite(code) && code <= 0x10ffff ? String.fromCodePoint(code) : match;
    }
    return ENTITIES.get(ref) ?? (CAPITALISED.has(ref) ? ENTITIES.get(ref.toLowerCase()) : undefined) ?? match;
  });
}
