import { literalArguments } from './helper-calls.js';
import type { TemplateProblem } from './template-checks.js';
import type { TemplateFile, TemplateSet } from './template-set.js';

// Luxon's formatting tokens (https://moment.github.io/luxon/#/formatting?id=table-of-tokens): a run
// of letters it does not know is written out as it stands.
const LUXON_TOKENS = new Set(
  (
    'S SSS u uu uuu s ss m mm h hh H HH Z ZZ ZZZ ZZZZ ZZZZZ z a d dd c ccc cccc ccccc E EEE EEEE ' +
    'EEEEE L LL LLL LLLL LLLLL M MM MMM MMMM MMMMM y yy yyyy yyyyyy G GG GGGGG kk kkkk W WW n nn ' +
    'ii iiii o ooo q qq D DD DDD DDDD t tt ttt tttt T TT TTT TTTT f ff fff ffff F FF FFF FFFF X x'
  ).split(' '),
);

/**
 * What is wrong with a `{{formatDate value "format"}}` format, or undefined. The formats a
 * Customer.io, Braze or Moment.js template carries render as nonsense rather than failing:
 * `%B %d, %Y` (strftime, Liquid's `date` filter) and `YYYY-MM-DD` are written out as they stand
 * with a date in the middle, and `dd/mm/yyyy` writes the minutes where the month should be.
 */
export function dateFormatMistake(format: string): string | undefined {
  if (/%[a-zA-Z]/.test(format))
    return "it is written for strftime (Liquid's date filter), which formatDate does not read";
  // Quoted text is written as it stands; '' is a quote.
  const runs = format.replace(/'[^']*(?:'|$)/g, '').match(/([a-zA-Z])\1*/g) ?? [];
  const unknown = runs.find((run) => !LUXON_TOKENS.has(run));
  if (unknown !== undefined)
    return `"${unknown}" is not one of its tokens, so it is written out as it stands`;
  if (runs.some((run) => run === 'mm') && !runs.some((run) => /^[Hhk]/.test(run)))
    return '"mm" is the minutes, written here without an hour; the month is "MM"';
  return undefined;
}

/** A `formatDate` call with a literal format that does not read as the author meant, and where. */
export interface DateFormatMistake {
  file: string;
  line: number;
  format: string;
  why: string;
}

/** The formatDate formats of one template file (not of the partials it includes) that are wrong. */
export function dateFormatMistakes(file: TemplateFile): DateFormatMistake[] {
  return literalArguments(file, 'formatDate', 1).flatMap(({ line, value: format }) => {
    const why = dateFormatMistake(format);
    return why === undefined ? [] : [{ file: file.path, line, format, why }];
  });
}

const FIX =
  'To fix: write it with Luxon\'s tokens, such as "d MMMM yyyy", "yyyy-MM-dd" or "dd/MM/yyyy HH:mm" (https://moment.github.io/luxon/#/formatting?id=table-of-tokens), or leave the format out for the date as the customer\'s locale writes it.';

/**
 * Every `{{formatDate … "format"}}` of the brand partials and the messages' templates whose
 * format would not render the date its author meant, each file once.
 */
export function dateFormatProblems(templates: TemplateSet): TemplateProblem[] {
  return templates.files().flatMap(({ file, message, channel }) =>
    dateFormatMistakes(file).map((mistake) => ({
      ...(message === undefined ? {} : { message }),
      ...(channel === undefined ? {} : { channel }),
      file: mistake.file,
      text: `${message === undefined ? 'Brand partial' : `Message "${message}", channel ${channel}`}: ${mistake.file} line ${mistake.line} formats a date as "${mistake.format}": ${mistake.why}. ${FIX}`,
    })),
  );
}
