/**
 * The entries of a customer's message list (see CustomerKeys.messages) that read as JSON objects,
 * and how many did not: an entry cut short by a failed write, edited by hand, or of another
 * shape. One such entry must not fail whatever reads the whole list (a provider's report on
 * another send, a journey's report): it is skipped and counted, for the caller to log.
 *
 * @example
 * const { entries, malformed } = readMessageList(await redis.lrange(keys.messages, 0, -1));
 */
export function readMessageList(raw: readonly string[]): {
  entries: Array<Record<string, unknown>>;
  malformed: number;
  /** The skipped entries as stored (a customer's export shows them). */
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
