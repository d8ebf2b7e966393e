import { encodeIdPart } from '../runtime/ids.js';

/**
 * The engine's job ids that bull-board's page may mean by `asked`. Its router decodes the id in
 * the page's address once more than its link encoded it, so an id holding percent-encoding (that
 * of every customer id with more than letters and digits: an email, a UUID, see encodeIdPart)
 * reaches the API decoded, naming no job. Encoding it again is ambiguous only where a `-` or `.`
 * may have been encoded, so each way the id's shape allows is given, for the caller to look up:
 *
 * - a send or timer, `s-|t-<customer>-<journey>.<n>-<rev>-<index>`, by the journeys loaded;
 * - a drain job, `d-|r-<customer>-<event or round>`, at each dash.
 */
export function encodedJobIds(asked: string, journeyIds: readonly string[]): string[] {
  const kind = asked.slice(0, 2);
  const rest = asked.slice(2);
  const ids = new Set<string>();
  if (kind === 's-' || kind === 't-') {
    for (const journeyId of journeyIds) {
      const step = new RegExp(`^(.+)-${journeyId}\\.(\\d+-\\d+-\\d+)$`).exec(rest);
      if (step) ids.add(`${kind}${encodeIdPart(step[1]!)}-${journeyId}.${step[2]!}`);
    }
  } else if (kind === 'd-' || kind === 'r-') {
    for (let at = rest.indexOf('-', 1); at !== -1 && at < rest.length - 1; at = rest.indexOf('-', at + 1))
      ids.add(`${kind}${encodeIdPart(rest.slice(0, at))}-${encodeIdPart(rest.slice(at + 1))}`);
  }
  ids.delete(asked);
  return [...ids];
}
