/**
 * The domain of a sender such as `Acme <hello@acme.example>` or `hello@acme.example`, which
 * every email's Message-ID ends with; `undefined` when the sender names none, or one that
 * cannot stand in a Message-ID.
 */
export function senderDomain(from: string): string | undefined {
  const domain = /@([^\s<>@]+?)>?\s*$/.exec(from)?.[1];
  return domain !== undefined && /^[A-Za-z0-9.-]+$/.test(domain) ? domain : undefined;
}

/**
 * The display name and address of a sender written `Name <address>` (the name may be quoted) or
 * as an address alone. Handed to nodemailer as these two parts, the name is quoted as a whole
 * when it needs it: read by nodemailer's address parser, `Yue Tea: News <hello@…>` became a group
 * (`Yue Tea:News <hello@…>;`), no mailbox at all in From, which Gmail refuses.
 */
export function senderParts(from: string): { name: string; address: string } {
  const angled = /^(.*)<([^<>]*)>\s*$/s.exec(from.trim());
  if (!angled) return { name: '', address: from.trim() };
  let name = angled[1]!.trim();
  const quoted = /^"((?:[^"\\]|\\.)*)"$/s.exec(name);
  if (quoted) name = quoted[1]!.replace(/\\(.)/gs, '$1');
  return { name, address: angled[2]!.trim() };
}
