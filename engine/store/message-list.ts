/**
 * The entries of a stored list (a customer's message list, recent events, engagement, consent
 * log) that read as JSON objects, and those that did not, as stored: an entry cut short by a
 * failed write, edited by hand, or of another shape. One such entry must not fail whatever reads
 * the whole list (a provider's report on another send, a journey's report, a customer's export):
 * it is skipped and counted, for the caller to log, or listed (an export shows it).
 *
 * @example
 * const { entries, malformed } = readStoredObjects(await redis.lrange(keys.messages, 0, -1));
 */
export function readStoredObjects(raw: readonly string[]): {
  entries: Array<Record<string, unknown>>;
  malformed: number;
  /** The skipped entries as stored. */
  unreadable: string[];
} {
  const entries: Array<Record<string, unknown>> = [];
  const unreadable: string[] = [];
  for (const text of raw) {
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      value = undefined;
    }
    if (typeof value === 'object' && value !== null && !Array.isArray(value))
      entries.push(value as Record<string, unknown>);
    else unreadable.push(text);
  }
  return { entries, malformed: unreadable.length, unreadable };
}

/** The entries of a customer's message list (see CustomerKeys.messages): {@link readStoredObjects}. */
export const readMessageList = readStoredObjects;
