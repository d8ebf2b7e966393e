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

/**
 * The keyword a reply is, or undefined for any other text. As Twilio matches them: the whole
 * body, in any case, with the spaces around it dropped; a keyword inside a sentence is not one.
 *
 * @example
 * smsKeyword(' Stop '); // 'opt-out'
 * smsKeyword('please stop'); // undefined
 */
export function smsKeyword(body: string): SmsKeyword | undefined {
  return KEYWORDS.get(body.trim().toUpperCase());
}
