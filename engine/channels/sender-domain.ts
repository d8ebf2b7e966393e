/**
 * The domain of a sender such as `Acme <hello@acme.example>` or `hello@acme.example`, which
 * every email's Message-ID ends with; `undefined` when the sender names none, or one that
 * cannot stand in a Message-ID.
 */
export function senderDomain(from: string): string | undefined {
  const domain = /@([^\s<>@]+?)>?\s*$/.exec(from)?.[1];
  return domain !== undefined && /^[A-Za-z0-9.-]+$/.test(domain) ? domain : undefined;
}
