import Handlebars from 'handlebars';
import { DateTime, IANAZone } from 'luxon';

/**
 * How a template's output is used, which decides its escaping: `html` escapes every `{{value}}`
 * for HTML, `text` (subjects, SMS, push, text parts) and `json` (webhooks) do not. `json` alone
 * has the `json` helper, so webhook authors write `{"name": {{json profile.firstName}} }` (the
 * space keeps Handlebars from reading `}}}` as the end of a triple-stash).
 */
export type TemplateMode = 'html' | 'text' | 'json';

/** The helpers every template may call, beyond Handlebars' own. */
export const CHORUS_HELPERS = ['default', 'formatDate', 'currency', 'plural', 'textDirection'] as const;
// Handlebars' own, but `log`: it prints what it is given (a customer's traits) to the process's
// output on every send, outside the structured logs and beyond the customer's erasure.
const BUILTIN_HELPERS = ['if', 'unless', 'with', 'each', 'lookup'] as const;

/** The names a template in `mode` may call as helpers. */
export function helperNames(mode: TemplateMode): ReadonlySet<string> {
  return new Set<string>([...BUILTIN_HELPERS, ...CHORUS_HELPERS, ...(mode === 'json' ? ['json'] : [])]);
}

export type CompiledTemplate = (context: object) => string;

/** One isolated Handlebars environment for one {@link TemplateMode}. */
export interface TemplateEnvironment {
  readonly mode: TemplateMode;
  compile(source: string): CompiledTemplate;
}

/** The root of the render context, as helpers read it through `@root`. */
interface RootData {
  locale?: unknown;
  timezone?: unknown;
}

function rootOf(args: unknown[]): RootData {
  const options = args[args.length - 1] as Handlebars.HelperOptions | undefined;
  const root = (options?.data as { root?: unknown } | undefined)?.root;
  return typeof root === 'object' && root !== null ? (root as RootData) : {};
}

/**
 * A locale as a BCP 47 tag Intl reads, canonicalised (`en-us` is `en-US`), or undefined. The
 * underscores of the form iOS (`Locale.current.identifier`), Android and Java write (`de_DE`,
 * `zh_Hant_TW`) are read as hyphens, and a POSIX codeset or modifier (`de_DE.UTF-8`) is dropped.
 */
function localeTag(locale: unknown): string | undefined {
  if (typeof locale !== 'string') return undefined;
  const tag = locale
    .trim()
    .replace(/[.@].*$/, '')
    .replace(/_/g, '-');
  if (tag === '') return undefined;
  try {
    return Intl.getCanonicalLocales(tag)[0];
  } catch {
    return undefined;
  }
}

/** A locale Intl accepts: the customer's when it is a valid BCP 47 tag, else `en-US`. */
export function safeLocale(locale: unknown): string {
  return localeTag(locale) ?? 'en-US';
}

/**
 * The customer's locale: the `locale` trait read as a BCP 47 tag (`de_DE` as `de-DE`), else
 * `fallback` (DEFAULT_LOCALE). A trait that names no locale (`Deutsch!`) falls back like a
 * misspelt `timezone` trait (see customerTimeZone), rather than leaving the helpers to format in
 * `en-US`.
 */
export function customerLocale(traits: Record<string, unknown>, fallback: string): string {
  return localeTag(traits.locale) ?? fallback;
}

function safeZone(timezone: unknown): string {
  return typeof timezone === 'string' && IANAZone.isValidZone(timezone) ? timezone : 'UTC';
}

/**
 * What `{{default}}` replaces, as Liquid's `default` does (Customer.io and Braze templates use it):
 * missing, null, false, an empty list, and a text of spaces only (a form's blank first name would
 * greet "Hi  ,"). 0 is a value.
 */
function isBlank(value: unknown): boolean {
  return (
    value === undefined ||
    value === null ||
    value === false ||
    (typeof value === 'string' && value.trim() === '') ||
    (Array.isArray(value) && value.length === 0)
  );
}

/** `{{default profile.firstName "there"}}`: the fallback when the value is missing or blank (see isBlank). */
function defaultHelper(...args: unknown[]): unknown {
  const [value, fallback] = args.length >= 3 ? args : [args[0], ''];
  return isBlank(value) ? fallback : value;
}

// Unix time below this is read as seconds: Customer.io sends `created_at` and its other timestamps
// so, as do Stripe and most CRMs. In milliseconds it would be a date of early 1970; in seconds
// it reaches the year 2286.
const SECONDS_BELOW = 1e10;

// The text forms a date arrives in besides ISO 8601: a SQL export's `2026-12-07 10:00:00`, an
// email or HTTP header's `Mon, 07 Dec 2026 10:00:00 GMT`. One without an offset is local time.
const TEXT_FORMATS: Array<(text: string, options: { zone: string; locale: string }) => DateTime> = [
  (text, options) => DateTime.fromISO(text, options),
  (text, options) => DateTime.fromSQL(text, options),
  (text, options) => DateTime.fromRFC2822(text, options),
  (text, options) => DateTime.fromHTTP(text, options),
];

/** A date as traits and event properties carry it, in the customer's zone and locale, or undefined. */
function dateOf(value: unknown, options: { zone: string; locale: string }): DateTime | undefined {
  if (value instanceof Date) return DateTime.fromJSDate(value, options);
  if (typeof value === 'string') {
    const text = value.trim();
    for (const parse of TEXT_FORMATS) {
      const date = parse(text, options);
      if (date.isValid) return date;
    }
    // Unix time written as text, as a CSV import leaves it ('1733580000').
    if (!/^-?\d+(?:\.\d+)?$/.test(text)) return undefined;
    value = Number(text);
  }
  if (typeof value !== 'number' || !Number.isFinite(value)) return undefined;
  return Math.abs(value) < SECONDS_BELOW
    ? DateTime.fromSeconds(value, options)
    : DateTime.fromMillis(value, options);
}

/**
 * `{{formatDate trigger.at}}` or `{{formatDate trigger.at "d MMMM"}}`, in the customer's locale
 * and zone: an ISO 8601, SQL or RFC 2822 date, or Unix time in seconds or milliseconds.
 */
function formatDateHelper(...args: unknown[]): string {
  const root = rootOf(args);
  const format = args.length >= 3 && typeof args[1] === 'string' ? args[1] : undefined;
  const options = { zone: safeZone(root.timezone), locale: safeLocale(root.locale) };
  const date = dateOf(args[0], options);
  if (date === undefined || !date.isValid) return '';
  return format === undefined ? date.toLocaleString(DateTime.DATE_MED) : date.toFormat(format);
}

/**
 * `{{currency trigger.total "EUR"}}`: an amount in the customer's locale. A code Intl cannot
 * format by (`"US$"` from a shop's event data) writes the amount with two decimals and the code as
 * given, rather than failing the send for good: a code written in the template is checked at load
 * instead (currency-code-checks.ts), where a misspelling can be fixed.
 */
function currencyHelper(...args: unknown[]): string {
  const root = rootOf(args);
  // Trimmed and upper-cased: a code from event data (`" eur"`, as a form or a CSV leaves it) is
  // still a code, where Intl refused it and the send failed for good.
  const given = args.length >= 3 && typeof args[1] === 'string' ? args[1].trim() : '';
  const locale = safeLocale(root.locale);
  const amount = typeof args[0] === 'string' && args[0] !== '' ? Number(args[0]) : args[0];
  if (typeof amount !== 'number' || !Number.isFinite(amount)) return '';
  if (given === '') return new Intl.NumberFormat(locale).format(amount);
  const format = currencyFormat(locale, given.toUpperCase());
  return format === undefined ? `${amountOnly(locale).format(amount)} ${given}` : format.format(amount);
}

function currencyFormat(locale: string, code: string): Intl.NumberFormat | undefined {
  try {
    return new Intl.NumberFormat(locale, { style: 'currency', currency: code });
  } catch {
    return undefined;
  }
}

const amountOnly = (locale: string) =>
  new Intl.NumberFormat(locale, { minimumFractionDigits: 2, maximumFractionDigits: 2 });

/**
 * `<html lang="{{locale}}" dir="{{textDirection}}">`: `rtl` for a customer whose locale is written
 * right to left (Arabic, Hebrew, Persian, Urdu…), else `ltr`. Without it an Arabic email's
 * paragraphs, lists and punctuation were laid out left to right in every mail client.
 */
function textDirectionHelper(...args: unknown[]): string {
  const locale = new Intl.Locale(safeLocale(rootOf(args).locale)) as Intl.Locale & {
    getTextInfo?: () => { direction?: string };
    textInfo?: { direction?: string };
  };
  // getTextInfo() in Node 22 and later; an accessor property before.
  const info = locale.getTextInfo?.() ?? locale.textInfo;
  return info?.direction === 'rtl' ? 'rtl' : 'ltr';
}

/** The CLDR plural categories `Intl.PluralRules` picks from. */
export const PLURAL_CATEGORIES = ['zero', 'one', 'two', 'few', 'many', 'other'] as const;
type PluralCategory = (typeof PLURAL_CATEGORIES)[number];

const pluralRules = new Map<string, Intl.PluralRules>();

function pluralCategory(locale: string, count: number): PluralCategory {
  let rules = pluralRules.get(locale);
  if (!rules) {
    rules = new Intl.PluralRules(locale);
    pluralRules.set(locale, rules);
  }
  return rules.select(count);
}

/**
 * `{{plural count "cup" "cups"}}` or `{{plural count one="plik" few="pliki" many="plików" other="pliku"}}`:
 * the count in the customer's locale, a space, and the form `Intl.PluralRules` picks for that
 * locale and count. The two positional words are the `one` and `other` forms (`other` defaults
 * to the first plus `s`); hash arguments name CLDR categories (`zero`, `one`, `two`, `few`,
 * `many`, `other`) and win over the positional words. A category without a form falls back to
 * `other`, so English templates need not change for languages with more forms. A count that is
 * not a number counts as 0.
 */
function pluralHelper(...args: unknown[]): string {
  const options = args[args.length - 1] as Handlebars.HelperOptions | undefined;
  const positional = args.slice(0, -1);
  const locale = safeLocale(rootOf(args).locale);
  const value = Number(positional[0] ?? 0);
  const count = Number.isFinite(value) ? value : 0;
  const one = typeof positional[1] === 'string' ? positional[1] : undefined;
  const other = typeof positional[2] === 'string' ? positional[2] : one === undefined ? undefined : `${one}s`;
  const forms: Partial<Record<PluralCategory, string>> = {
    ...(one === undefined ? {} : { one }),
    ...(other === undefined ? {} : { other }),
  };
  const hash = (options?.hash ?? {}) as Record<string, unknown>;
  for (const category of PLURAL_CATEGORIES) {
    const form = hash[category];
    if (typeof form === 'string') forms[category] = form;
  }
  const word = forms[pluralCategory(locale, count)] ?? forms.other ?? '';
  return `${new Intl.NumberFormat(locale).format(count)} ${word}`.trimEnd();
}

/** `{{json profile.firstName}}`: a JSON literal, so webhook templates cannot break out of a string. */
function jsonHelper(...args: unknown[]): string {
  const value = args.length >= 2 ? args[0] : undefined;
  return JSON.stringify(value ?? null);
}

/**
 * JSON templates render without HTML escaping, so a bare `{{profile.firstName}}` would let a
 * trait break out of its string (`x", "admin": true`). Every value must go through `{{json …}}`,
 * in the template and in every partial it includes (`partials` by name: a brand partial is
 * written into the JSON as it is).
 */
function assertJsonValuesOnly(
  node: unknown,
  partials: Readonly<Record<string, string>>,
  trail: readonly string[] = [],
): void {
  if (typeof node !== 'object' || node === null) return;
  const n = node as {
    type?: string;
    path?: { original?: unknown };
    name?: { type?: string; original?: unknown };
    loc?: { start?: { line?: number } };
  };
  const where = trail.length === 0 ? '' : `partial "${trail[trail.length - 1]}" `;
  if (n.type === 'MustacheStatement' && n.path?.original !== 'json') {
    throw new Error(
      `${where}line ${n.loc?.start?.line ?? '?'}: {{${String(n.path?.original)}}} writes a raw value into JSON. ` +
        'To fix: write it as {{json …}}, which escapes it.',
    );
  }
  if (
    (n.type === 'PartialStatement' || n.type === 'PartialBlockStatement') &&
    n.name?.type === 'PathExpression'
  ) {
    const name = String(n.name.original);
    const source = partials[name];
    if (source !== undefined && !trail.includes(name)) {
      assertJsonValuesOnly(Handlebars.parse(source), partials, [...trail, name]);
    }
  }
  for (const value of Object.values(node)) {
    if (Array.isArray(value)) value.forEach((item) => assertJsonValuesOnly(item, partials, trail));
    else if (typeof value === 'object' && value !== null && value !== n.loc)
      assertJsonValuesOnly(value, partials, trail);
  }
}

/**
 * An isolated Handlebars environment (`Handlebars.create()`, never the global one) with the
 * Chorus helpers and the given partials, compiled for `mode`.
 *
 * Handlebars compiles a partial registered as a string with the options of the first template
 * that calls it and keeps that, so a partial first used by an unescaped text template would
 * later render unescaped inside HTML. Partials are therefore compiled here, per mode. Prototype
 * access keeps Handlebars' default (denied): `{{constructor.name}}` renders empty.
 *
 * @example
 * const html = createTemplateEnvironment('html', { footer: '<p>{{message.brand}}</p>' });
 * html.compile('<h1>{{message.headline}}</h1>{{> footer}}')(context);
 */
export function createTemplateEnvironment(
  mode: TemplateMode,
  partials: Readonly<Record<string, string>> = {},
): TemplateEnvironment {
  const handlebars = Handlebars.create();
  const compileOptions = mode === 'html' ? {} : { noEscape: true };
  // Compiled templates call Handlebars' built-in helpers directly: `log` is replaced, not removed.
  handlebars.registerHelper('log', () => {
    throw new Error("there is no log helper: it would print the customer's data to the worker's output");
  });
  handlebars.registerHelper('default', defaultHelper);
  handlebars.registerHelper('formatDate', formatDateHelper);
  handlebars.registerHelper('currency', currencyHelper);
  handlebars.registerHelper('plural', pluralHelper);
  handlebars.registerHelper('textDirection', textDirectionHelper);
  if (mode === 'json') handlebars.registerHelper('json', jsonHelper);
  for (const [name, source] of Object.entries(partials)) {
    handlebars.registerPartial(name, handlebars.compile(source, compileOptions));
  }
  return {
    mode,
    compile: (source) => {
      if (mode === 'json') assertJsonValuesOnly(handlebars.parse(source), partials);
      const template = handlebars.compile(source, compileOptions);
      return (context) => template(context);
    },
  };
}

/** Parses a template without compiling it: the AST the load-time checks walk. */
export function parseTemplate(source: string): hbs.AST.Program {
  return Handlebars.parse(source);
}

/** Handlebars' HTML escaping, for values placed into HTML without a template. */
export function escapeHtml(value: string): string {
  return Handlebars.escapeExpression(value);
}
