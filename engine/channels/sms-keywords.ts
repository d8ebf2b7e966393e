/**
 * What a customer's reply to a text asks for, by Twilio's default keywords: `opt-out` (STOP and
 * its like) ends texts from the sender, `opt-in` (START) takes them back, `help` asks for the
 * sender's help text. Twilio answers each with its standard reply and blocks or unblocks the
 * number itself; these are what Chorus records of them.
 */
export type SmsKeyword = 'opt-out' | 'opt-in' | 'help';

const KEYWORDS: ReadonlyMap<string, SmsKeyword> = new Map([
  ...['STOP', 'STOPALL', 'UNSUBSCRIBE', 'CANCEL', 'END', 'QUIT', 'REVOKE', 'OPTOUT'].map(
    (word) => [word, 'opt-out'] as const,
  ),
  ...['START', 'YES', 'UNSTOP'].map((word) => [word, 'opt-in'] as const),
  ...['HELP', 'INFO'].map((word) => [word, 'help'] as const),
]);

/** Twilio's `OptOutType` of an inbound text: what it took the text for. */
const OPT_OUT_TYPES: ReadonlyMap<string, SmsKeyword> = new Map([
  ['STOP', 'opt-out'],
  ['START', 'opt-in'],
  ['HELP', 'help'],
]);

/**
 * The keyword a reply is, or undefined for any other text. Twilio's own verdict when it sends one
 * (`optOutType`: a Messaging Service with Advanced Opt-Out sends it, for its own keywords too,
 * such as a French ARRET); else as Twilio matches its default keywords: the whole body, in any
 * case, with the spaces around it dropped; a keyword inside a sentence is not one.
 *
 * @example
 * smsKeyword(' Stop '); // 'opt-out'
 * smsKeyword('please stop'); // undefined
 * smsKeyword('ARRET', 'STOP'); // 'opt-out'
 */
export function smsKeyword(body: string, optOutType?: string): SmsKeyword | undefined {
  if (optOutType) return OPT_OUT_TYPES.get(optOutType.trim().toUpperCase());
  return KEYWORDS.get(body.trim().toUpperCase());
}
