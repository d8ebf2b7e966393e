/**
 * What people write between the digits of a number: `+1 (415) 555-0123`, `+1.415.555.0123`.
 * The send-state script (send-state.ts) strips the same characters in Lua to find a number's
 * suppression: keep the two alike, or a number texted and its suppression lookup part ways.
 */
const PHONE_SEPARATORS = /[\s().-]/g;
/** E.164: a `+`, a country code that does not start with 0, and at most 15 digits in all. */
const E164 = /^\+[1-9]\d{1,14}$/;

/** The number without the spaces, brackets, dots and dashes written between its digits. */
export function compactPhoneNumber(phone: string): string {
  return phone.replace(PHONE_SEPARATORS, '');
}

/**
 * The customer's number as Twilio takes it (E.164, `+14155550123`): written as people write it,
 * with spaces, brackets, dots or dashes between the digits, it is refused as not a valid number.
 * `undefined` when it is no E.164 number even then (a national `07700 900123`, no `+`).
 */
export function e164PhoneNumber(phone: string): string | undefined {
  const compact = compactPhoneNumber(phone);
  return E164.test(compact) ? compact : undefined;
}
