import type SMTPConnection from 'nodemailer/lib/smtp-connection/index.js';
import type { DeliveryResult } from './channel-adapter.js';
import { describeError } from './http-result.js';
import type { DataWatch } from './smtp-data-watch.js';

/**
 * The SMTP commands whose refusal is about this message: its recipient (`RCPT TO`) or its content
 * (`DATA`). A refusal anywhere else is about the sender or the connection (a rejected login, a
 * sender address the server will not relay for, an IP on a blocklist at the greeting, STARTTLS
 * required; and at `RCPT TO`, a refusal to relay for this client, see CLIENT_REFUSED): every
 * message would meet it, so it is retried, not failed, until it is fixed.
 */
const MESSAGE_COMMANDS = new Set(['RCPT TO', 'DATA']);

/**
 * 552 at `MAIL FROM`: the message is larger than the server takes (RFC 1870). At `RCPT TO` it is
 * a mailbox over its quota, which RFC 5321 (4.5.3.1.10) has clients treat as temporary (452): the
 * customer empties it.
 */
const TOO_LARGE = 552;

/**
 * Enhanced status codes (RFC 3463) by which a server refusing the recipient says the address
 * itself cannot receive mail: no such mailbox (5.1.1), no such domain (5.1.2), a malformed address
 * (5.1.3), a domain that takes no mail (5.1.10, a null MX, RFC 7505). Found at the start of any
 * line of the reply (`550 …` or `550-…`), which may span several.
 */
const ADDRESS_UNUSABLE = /^5\d\d[ -]5\.1\.(?:1|2|3|10)\b/m;

/**
 * The words by which mailbox providers say a mailbox does not exist without one of those codes,
 * each matched at the start of a line of the reply. A refusal matching one is a hard bounce as
 * 5.1.1 is. Only a mailbox that does not exist (or never will take mail again) belongs here: a
 * refusal by policy says nothing about the address, and suppressing it would stop the mail of a
 * customer who can receive it (see NOT_ABOUT_THE_ADDRESS).
 */
const MAILBOX_GONE: ReadonlyArray<RegExp> = [
  // Exchange Online's Directory-Based Edge Blocking: the recipient is not in the tenant's
  // directory, refused as "550 5.4.1 Recipient address rejected: Access denied. … [….prod.outlook.com]"
  // (Microsoft's "Fix email delivery issues for error code 5.4.1"). Its relay refusal, also
  // 5.4.1, reads "Relay Access Denied" and is about the account (see CLIENT_REFUSED).
  /^5\d\d[ -]5\.4\.1 Recipient address rejected: Access denied\b/im,
  // Yahoo and AOL: "554 delivery error: dd This user doesn't have a yahoo.com account (…) [0] - mta….yahoo.com".
  /^5\d\d[ -]delivery error: dd This user doesn'?t have an? \S+ account\b/im,
  // Yahoo's other two for an address that takes no mail: a deactivated account ("554 delivery
  // error: dd This mailbox is disabled (554.30)") and "dd Requested mail action aborted, mailbox
  // not found".
  /^5\d\d[ -]delivery error: dd (?:This mailbox is disabled|Requested mail action aborted, mailbox not found)\b/im,
  // Gmail: "550-5.2.1 The email account that you tried to reach is disabled." (a closed account;
  // Gmail's other 5.2.1, mail arriving too fast for the user, is not).
  /^5\d\d[ -]5\.2\.1 The email account that you tried to reach is disabled\b/im,
  // Servers that give no enhanced code, or only the "undefined" 5.0.0 (Sendmail, Exim and qmail
  // setups, small hosts): "550 No such user", "550 <ada@…>: User unknown".
  /^5\d\d[ -](?:5\.0\.0 )?(?![245]\.\d{1,3}\.\d{1,3}\b)[^\n]*\b(?:no such user|user unknown|unknown user)\b/im,
];

/**
 * What makes a refusal worded as a missing mailbox one about policy instead ("User unknown or
 * blocked"): a class 5.7 enhanced code (security or policy, RFC 3463) or words of a block or a
 * spam verdict. Such a refusal fails the send and suppresses nothing.
 */
const NOT_ABOUT_THE_ADDRESS =
  /^5\d\d[ -]5\.7\.\d{1,3}\b|\b(?:block(?:ed|list(?:ed)?)?|blacklist(?:ed)?|spam|policy|reputation)\b/im;

/** Whether a refusal of the recipient says the address cannot receive mail: a hard bounce. */
function addressGone(said: string): boolean {
  if (ADDRESS_UNUSABLE.test(said)) return true;
  return !NOT_ABOUT_THE_ADDRESS.test(said) && MAILBOX_GONE.some((pattern) => pattern.test(said));
}

/**
 * A refusal of `RCPT TO` that is about the client, not the recipient: the server will not relay
 * for it, or wants it logged in first (530). Servers give it there rather than at the login: a
 * URL without credentials, or an account not allowed to send, meets it on every message
 * (Postfix's "Relay access denied", Exchange Online's 5.7.64, Exim's "relay not permitted").
 */
const CLIENT_REFUSED =
  /\brelay(?:ing)?\b[^\n]*\b(?:denied|not permitted|not allowed)\b|\bunable to relay\b|\bauthentication required\b/i;
const AUTH_REQUIRED = 530;
/**
 * A refusal of `RCPT TO` that names the sender as at fault (RFC 3463 X.1.7, bad sender's mailbox
 * syntax; X.1.8, bad sender's system address: a MAIL_FROM domain with no DNS): every message from
 * it meets the same, so it waits for the setup to be fixed like a refused login.
 */
const SENDER_REFUSED = /^5\d\d[ -]5\.1\.[78]\b/m;

/**
 * A refusal, at `RCPT TO` or at the end of `DATA`, of a sender that does not authenticate: RFC
 * 7372's 5.7.20 to 5.7.25 (no passing DKIM signature, SPF failing, no reverse DNS for the sending
 * IP) and 5.7.26 (several checks failing), which Gmail gives for mail failing its sender's DMARC
 * policy or authenticated by neither SPF nor DKIM; and 5.7.27, RFC 7505's sender domain with a
 * null MX, which Gmail gives for mail failing SPF. Like SENDER_REFUSED it is the sender's setup
 * (its domain's DNS records, the relay's DKIM key), not this message: every message from the
 * sender meets it, so it is retried while the setup is fixed rather than failed one by one.
 */
const SENDER_UNAUTHENTICATED = /^5\d\d[ -]5\.7\.2[0-7]\b/m;

/**
 * What nodemailer's error says of a send. A 2xx after the whole message (the reply, cut short
 * before its line ended, with the connection) is a send. A 5xx to the message's recipient or content is permanent; a 5xx
 * to the login, the sender or the connection, or one refusing the sender's authentication, is the
 * account's or the setup's, and a 4xx is transient: both are retried. Without a reply code the server was not heard: once it had the
 * whole message (`data`, see smtp-data-watch.ts) it may have accepted it (`mayHaveArrived`: the
 * worker sends it again once at most, see createMessageSender); before, nothing can have arrived,
 * so it is tried again, except for the few errors nodemailer raises about the message itself.
 */
export function smtpOutcome(error: unknown, data: DataWatch = { sent: false }): DeliveryResult {
  const smtp = error as SMTPConnection.SMTPError;
  const said = smtp.response ?? describeError(error);
  const code = smtp.responseCode;
  if (data.sent && typeof code === 'number' && code >= 200 && code < 300)
    return { status: 'sent', providerId: said };
  // Any other reply that is no refusal says no more than silence.
  if (data.sent && (typeof code !== 'number' || code < 400))
    return {
      status: 'retry',
      reason: `the SMTP server had the whole message but did not answer for it: ${said}`,
      mayHaveArrived: true,
    };
  const command = smtp.command ?? '';
  if (typeof code === 'number' && code >= 500) {
    if (command === 'RCPT TO' && code === TOO_LARGE)
      return { status: 'retry', reason: `SMTP server deferred (the mailbox is full): ${said}` };
    // Some servers check the recipient only once they have the message (a 5.1.1 at the end of
    // DATA); a send has one recipient, so it is the same answer.
    if ((command === 'RCPT TO' || command === 'DATA') && addressGone(said))
      return {
        status: 'failed',
        reason: `SMTP server refused the address, which cannot receive mail: ${said}`,
        addressUnusable: true,
        addressGone: true,
      };
    if ((command === 'RCPT TO' || command === 'DATA') && SENDER_UNAUTHENTICATED.test(said))
      return {
        status: 'retry',
        reason: `SMTP server refused ${command} for the sender's authentication, which every message from it meets: ${said} (check the SPF, DKIM and DMARC records of the sender's domain)`,
      };
    const aboutClient =
      command === 'RCPT TO' &&
      (code === AUTH_REQUIRED || CLIENT_REFUSED.test(said) || SENDER_REFUSED.test(said));
    if (!aboutClient && (MESSAGE_COMMANDS.has(command) || (command === 'MAIL FROM' && code === TOO_LARGE)))
      return { status: 'failed', reason: `SMTP server refused: ${said}` };
    if (command === 'STARTTLS')
      return { status: 'retry', reason: `SMTP server refused STARTTLS: ${said}${NO_STARTTLS_FIX}` };
    return {
      status: 'retry',
      reason: `SMTP server refused ${command || 'the connection'}, which is not about this message: ${said} (check the SMTP account and the sender address)`,
    };
  }
  if (typeof code === 'number' && code >= 400)
    return { status: 'retry', reason: `SMTP server deferred: ${said}` };
  if (smtp.code === 'EENVELOPE' || smtp.code === 'EMESSAGE') {
    return { status: 'failed', reason: `nodemailer refused the message: ${said}` };
  }
  // Reached, but the setup keeps the message from going: retried, with what to check.
  if (smtp.code === 'EAUTH')
    return {
      status: 'retry',
      reason: `the SMTP login could not be made (check the user name and password of the SMTP URL): ${said}`,
    };
  if (smtp.code === 'ETLS' || TLS_FAILURE.test(said))
    return {
      status: 'retry',
      reason: `TLS with the SMTP server failed (check the host name, its certificate, and smtps:// for port 465 or smtp:// for 587): ${said}`,
    };
  return { status: 'retry', reason: `SMTP server not reachable: ${said}` };
}

/** What to check when a server does not offer STARTTLS, which a URL with a login requires (see parseSmtpUrl). */
const NO_STARTTLS_FIX =
  " (the password is sent only over TLS: use the provider's TLS port, smtp:// on 587 or smtps:// on 465; " +
  'for a server on a network you trust that has no TLS, add ?requireTLS=false to the SMTP URL)';

/**
 * A TLS handshake's failure as Node words it (nodemailer replaces the error's code with its own):
 * an untrusted, expired or misnamed certificate, or TLS spoken to a plain port.
 */
const TLS_FAILURE = /certificate|\bSSL\b|\bTLS\b|altnames|wrong version number/i;
