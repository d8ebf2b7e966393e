import { literalArguments } from './helper-calls.js';
import type { TemplateProblem } from './template-checks.js';
import type { TemplateSet } from './template-set.js';

// The ISO 4217 codes this runtime's Intl knows: a code outside it ("EUO") would be formatted as
// a code nobody reads, and one that is no code at all ("EURO") as a bare amount.
const KNOWN_CODES = new Set(Intl.supportedValuesOf('currency'));

/**
 * Every `{{currency amount "CODE"}}` of the brand partials and the messages' templates whose code,
 * written in the template, is not an ISO 4217 code: at send time the helper cannot fail the send
 * on it (a code from data is the customer's), so it is found here, before any is sent.
 */
export function currencyCodeProblems(templates: TemplateSet): TemplateProblem[] {
  return templates.files().flatMap(({ file, message, channel }) =>
    literalArguments(file, 'currency', 1)
      .filter(({ value }) => !KNOWN_CODES.has(value.trim().toUpperCase()))
      .map(({ line, value }) => ({
        ...(message === undefined ? {} : { message }),
        ...(channel === undefined ? {} : { channel }),
        file: file.path,
        text: `${message === undefined ? 'Brand partial' : `Message "${message}", channel ${channel}`}: ${file.path} line ${line}: currency "${value}" is not a three-letter ISO 4217 code such as "EUR" or "USD". To fix: write the code (https://www.iso.org/iso-4217-currency-codes.html), or take it from the event's data.`,
      })),
  );
}
