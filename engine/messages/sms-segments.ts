export type SmsEncoding = 'GSM-7' | 'UCS-2';

/** How an SMS body travels: its encoding, its length in that encoding and the parts it is split into. */
export interface SmsSegmentCount {
  encoding: SmsEncoding;
  /** GSM-7 septets (extension characters count two) or UTF-16 code units. */
  units: number;
  segments: number;
}

// GSM 03.38 default alphabet (the escape 0x1B excluded) and its extension table, whose characters
// are sent as escape + character and so count two septets.
const GSM_BASIC = new Set(
  '@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !"#¤%&\'()*+,-./0123456789:;<=>?' +
    '¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà',
);
const GSM_EXTENSION = new Set('\f^{}\\[~]|€');

const LIMITS: Record<SmsEncoding, { single: number; part: number }> = {
  // A multi-part message loses 7 septets (GSM-7) or 3 code units (UCS-2) per part to the UDH header.
  'GSM-7': { single: 160, part: 153 },
  'UCS-2': { single: 70, part: 67 },
};

/** Whether every character of `body` is in the GSM 03.38 alphabet (basic or extension). */
export function isGsm7(body: string): boolean {
  for (const char of body) {
    if (!GSM_BASIC.has(char) && !GSM_EXTENSION.has(char)) return false;
  }
  return true;
}

// No-break spaces: Intl writes them in numbers and prices of most locales ("12,50 €" in de-DE,
// "1 234" in fr-FR), and neither is in GSM 03.38.
const NO_BREAK_SPACES = /[\u00A0\u2007\u202F]/g;

/**
 * An SMS body with its no-break spaces made plain: one from `{{currency}}` or `{{plural}}` in
 * a German or French customer's locale would switch the whole body to UCS-2, and so to parts of
 * 67 characters instead of 153, for a space no phone shows differently.
 *
 * @example
 * plainSpaces('Now 12,50\u00A0€'); // 'Now 12,50 €'
 */
export function plainSpaces(body: string): string {
  return body.replace(NO_BREAK_SPACES, ' ');
}

// Typographic punctuation outside GSM 03.38 and the plain form a phone shows nearly alike: what
// an iPhone's smart punctuation types in a name (O’Brien), and what template authors and product
// names carry (“Long Jing”, tea–time…).
const TYPOGRAPHIC: ReadonlyArray<[RegExp, string]> = [
  [/[\u2018\u2019\u201A\u201B\u2032]/g, "'"],
  [/[\u201C\u201D\u201E\u201F\u2033]/g, '"'],
  [/[\u2012\u2013\u2014\u2015\u2212]/g, '-'],
  [/\u2026/g, '...'],
];

/**
 * An SMS body with its typographic quotes, dashes and ellipses made plain when that makes it
 * GSM-7: one ’ would switch the whole body to UCS-2, parts of 67 characters instead of 153 (Twilio's
 * Smart Encoding does the same, but only for a Messaging Service that has it turned on). A body
 * that stays UCS-2 anyway (an emoji, a script outside GSM 03.38) keeps them as written.
 *
 * @example
 * plainPunctuation('Hi Ana O’Brien…'); // "Hi Ana O'Brien..."
 * plainPunctuation('Hi Ana O’Brien 🍵'); // 'Hi Ana O’Brien 🍵'
 */
export function plainPunctuation(body: string): string {
  if (isGsm7(body)) return body;
  const plain = TYPOGRAPHIC.reduce(
    (text, [pattern, replacement]) => text.replace(pattern, replacement),
    body,
  );
  return isGsm7(plain) ? plain : body;
}

/**
 * The encoding and number of parts an SMS body needs. GSM-7 holds 160 septets in one message and
 * 153 per part; anything outside GSM 03.38 (an emoji, most accents, CJK) switches the whole body
 * to UCS-2: 70 code units in one message, 67 per part. A character is never split between parts:
 * neither an escaped extension character nor a surrogate pair.
 *
 * @example
 * smsSegments('a'.repeat(161)); // { encoding: 'GSM-7', units: 161, segments: 2 }
 * smsSegments('Tea time 🍵');   // { encoding: 'UCS-2', units: 11, segments: 1 }
 */
export function smsSegments(body: string): SmsSegmentCount {
  const encoding: SmsEncoding = isGsm7(body) ? 'GSM-7' : 'UCS-2';
  const costs = [...body].map((char) =>
    encoding === 'GSM-7' ? (GSM_EXTENSION.has(char) ? 2 : 1) : char.length,
  );
  const units = costs.reduce((sum, cost) => sum + cost, 0);
  const { single, part } = LIMITS[encoding];
  if (units <= single) return { encoding, units, segments: 1 };
  let segments = 1;
  let used = 0;
  for (const cost of costs) {
    if (used + cost > part) {
      segments += 1;
      used = 0;
    }
    used += cost;
  }
  return { encoding, units, segments };
}
