// What a word is made of. Scripts written without spaces between words (Chinese, Japanese, Thai,
// Lao, Khmer, Burmese) and Hangul, whose particles join the word before them, have no word edge
// to check, so their letters never make a match part of a longer word.
const WORD_CHARACTER =
  /(?![\p{sc=Han}\p{sc=Hiragana}\p{sc=Katakana}\p{sc=Hangul}\p{sc=Thai}\p{sc=Lao}\p{sc=Khmer}\p{sc=Myanmar}])[\p{L}\p{N}\p{M}]/u;

const isWordCharacter = (character: string | undefined) =>
  character !== undefined && WORD_CHARACTER.test(character);

/** Case and runs of white space do not matter to a reader. */
const normalise = (text: string) => text.replace(/\s+/g, ' ').trim().toLowerCase();

/**
 * Whether `text` carries `phrase`, ignoring case and white space, as words of their own: "Sale"
 * is not carried by "Wholesale", nor "20% off" by "120% off"; "Sale!" and "(Sale)" carry it.
 *
 * @example
 * carriesPhrase('Big  SALE today', 'big sale'); // true
 * carriesPhrase('Wholesale prices', 'Sale'); // false
 */
export function carriesPhrase(text: string, phrase: string): boolean {
  const haystack = normalise(text);
  const needle = normalise(phrase);
  if (needle === '') return true;
  const startsWord = isWordCharacter(needle[0]);
  const endsWord = isWordCharacter(needle.at(-1));
  for (let at = haystack.indexOf(needle); at !== -1; at = haystack.indexOf(needle, at + 1)) {
    if (startsWord && isWordCharacter(haystack[at - 1])) continue;
    if (endsWord && isWordCharacter(haystack[at + needle.length])) continue;
    return true;
  }
  return false;
}
