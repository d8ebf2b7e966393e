import { createPrivateKey } from 'node:crypto';
import nodemailer from 'nodemailer';
import type Mail from 'nodemailer/lib/mailer/index.js';
import type SMTPConnection from 'nodemailer/lib/smtp-connection/index.js';
import type { Logger } from '../logger.js';
import type { ChannelAdapter, Delivery, DeliveryResult } from './channel-adapter.js';
import { deliverable } from './deliverable.js';
import { ChannelConfigError } from './errors.js';
import { describeError } from './http-result.js';
import { outboxFileName, writeOutboxFile } from './outbox-file.js';
import { senderDomain, senderParts } from './sender-domain.js';
import { watchData, watched, type DataWatch } from './smtp-data-watch.js';
import { noDelaySmtpSocket } from './smtp-socket.js';
import { parseSmtpUrl } from './smtp-url.js';

/** DKIM signing for every email; both list headers are always among the signed ones. */
export interface EmailDkimOptions {
  domainName: string;
  keySelector: string;
  /** PEM private key. */
  privateKey: string;
  /** Colon-separated header names to sign; `List-Unsubscribe` and `List-Unsubscribe-Post` are added when missing. */
  headerFieldNames?: string;
}

export interface EmailAdapterOptions {
  /** The sender, e.g. `Acme <hello@acme.example>`. */
  from: string;
  /**
   * `smtp://user:pass@host:587` (STARTTLS) or `smtps://…:465`, user and password percent-encoded
   * (see parseSmtpUrl). Unset: emails are written to `<outboxDir>/email/` instead. */
  smtpUrl?: string;
  /** Where the outbox mode writes; default `outbox`. */
  outboxDir?: string;
  /** The right-hand side of every `Message-ID`; default: the domain of `from`. */
  messageIdDomain?: string;
  /** Pooled SMTP connections kept open; default 5 (pooled sends run about 9x faster than unpooled). */
  maxConnections?: number;
  /**
   * Messages one connection sends before it is replaced; default 100 (nodemailer's). Each
   * replacement pauses nodemailer's queue for 100 ms, so busy senders whose server allows it
   * gain by raising it.
   */
  maxMessages?: number;
  /** Deadline for connecting, the greeting and each wait on the socket; default 30 000 ms. */
  timeoutMs?: number;
  dkim?: EmailDkimOptions;
  /** Told the path of every `.eml` file the outbox mode writes. */
  logger?: Pick<Logger, 'info'>;
}

/**
 * nodemailer's default DKIM header list (RFC 6376 5.4 suggestions) plus `List-Unsubscribe-Post`,
 * which RFC 8058 requires a DKIM signature to cover and nodemailer's default omits.
 */
export const DKIM_HEADER_FIELDS =
  'From:Sender:Reply-To:Subject:Date:Message-ID:To:Cc:MIME-Version:Content-Type:' +
  'Content-Transfer-Encoding:Content-ID:Content-Description:Resent-Date:Resent-From:Resent-Sender:' +
  'Resent-To:Resent-Cc:Resent-Message-ID:In-Reply-To:References:List-Id:List-Help:List-Unsubscribe:' +
  'List-Unsubscribe-Post:List-Subscribe:List-Post:List-Owner:List-Archive';

/**
 * The `Message-ID` of a send: a function of its operation id and the time the journey asked for it, so a
 * retried send keeps it. Mailbox providers (Gmail among them) drop a message whose Message-ID the
 * mailbox already holds: the operation id alone repeats for a customer erased and back under the
 * same user id, whose journeys start again from their first entry.
 */
export function emailMessageId(opId: string, domain: string, requestedAt?: number): string {
  return requestedAt === undefined
    ? `<${opId}@${domain}>`
    : `<${opId}.${requestedAt.toString(36)}@${domain}>`;
}

/**
 * Email over pooled SMTP (nodemailer), or, without `smtpUrl`, into `<outboxDir>/email/<opId>.eml`
 * as complete RFC 5322 messages (the embedded default for development).
 *
 * Every email carries an HTML and a text part, a `Message-ID` made from the operation id (see emailMessageId),
 * one-click unsubscribe headers (RFC 8058; marketing mail only, see Delivery's `topic`),
 * `Auto-Submitted: auto-generated` (RFC 3834) and `X-Chorus-Journey`, `-Message`, `-Variant` and
 * `-Op` headers. SMTP answers map to results: accepted → `sent`; 4xx or no answer → `retry`
 * (with `mayHaveArrived` when the server had the whole message and went silent);
 * 5xx to the recipient or the content → `failed` with the server's text (`addressUnusable`, so
 * the journey's next channel takes the send, when the address cannot receive mail: 5.1.1 no such
 * mailbox, 5.1.10 null MX); 552 to the recipient (a full mailbox) and 5xx to the login, the
 * sender or the connection → `retry` (see smtpOutcome).
 *
 * @example
 * ```ts
 * const email = createEmailAdapter({ from: 'Acme <hello@acme.example>', smtpUrl: env.SMTP_URL });
 * const result = await email.send(delivery);
 * if (result.status === 'retry') throw new Error(result.reason); // let BullMQ back off
 * await email.close?.();
 * ```
 */
export function createEmailAdapter(options: EmailAdapterOptions): ChannelAdapter {
  const domain = options.messageIdDomain ?? senderDomain(options.from);
  if (!domain || !/^[A-Za-z0-9.-]+$/.test(domain)) {
    throw new ChannelConfigError(
      'messageIdDomain',
      `The email adapter cannot derive a Message-ID domain from from="${options.from}". ` +
        'To fix: give `from` an address such as "Acme <hello@acme.example>", or set `messageIdDomain`.',
    );
  }
  const sender = senderParts(options.from);
  const dkim = options.dkim && dkimOptions(options.dkim);
  const timeoutMs = options.timeoutMs ?? 30_000;

  if (options.smtpUrl === undefined) {
    const outboxDir = options.outboxDir ?? 'outbox';
    const composer = nodemailer.createTransport({
      streamTransport: true,
      buffer: true,
      newline: 'windows',
      dkim,
    });
    return {
      channel: 'email',
      provider: 'outbox',
      idempotent: true,
      async send(delivery) {
        const mail = mailFor(delivery, sender, domain);
        if ('status' in mail) return mail;
        let path: string;
        try {
          const { message } = await composer.sendMail(mail);
          // `buffer: true` makes the message a Buffer; the type also allows a stream.
          if (!Buffer.isBuffer(message)) throw new Error('nodemailer returned a stream, not a buffer');
          path = await writeOutboxFile(outboxDir, 'email', outboxFileName(delivery.opId, 'eml'), message);
        } catch (error) {
          return {
            status: 'retry',
            reason: `could not write the email outbox file: ${describeError(error)}`,
          };
        }
        options.logger?.info({ channel: 'email', opId: delivery.opId, path }, 'email written to outbox');
        return { status: 'sent', providerId: path };
      },
      async close() {
        composer.close();
      },
    };
  }

  const url = parseSmtpUrl(options.smtpUrl);
  if (!url.ok)
    throw new ChannelConfigError(
      'smtpUrl',
      `The SMTP URL cannot be used: ${url.problem}. To fix: ${url.fix}.`,
    );
  const connection = url.options;
  const transport = nodemailer.createTransport({
    ...connection,
    pool: true,
    maxConnections: options.maxConnections ?? 5,
    maxMessages: options.maxMessages ?? 100,
    connectionTimeout: timeoutMs,
    greetingTimeout: timeoutMs,
    socketTimeout: timeoutMs,
    getSocket: noDelaySmtpSocket(timeoutMs),
    dkim,
  });
  watchData(transport);
  return {
    channel: 'email',
    provider: 'smtp',
    idempotent: true, // the same Message-ID on every attempt
    resendOnce: true,
    async send(delivery) {
      const mail = mailFor(delivery, sender, domain);
      if ('status' in mail) return mail;
      const watch: DataWatch = { sent: false };
      try {
        const info = await transport.sendMail(watched(mail, watch));
        return { status: 'sent', providerId: info.response || info.messageId, detail: info.messageId };
      } catch (error) {
        return smtpOutcome(error, watch);
      }
    },
    async close() {
      transport.close();
    },
  };
}

function mailFor(delivery: Delivery, from: Mail.Address, domain: string): Mail.Options | DeliveryResult {
  const ready = deliverable(delivery, 'email', 'email');
  if (!ready.ok) return ready.result;
  const { rendered } = ready;
  const headers: Record<string, string> = {
    'X-Chorus-Journey': delivery.journeyId,
    'X-Chorus-Message': delivery.message,
    'X-Chorus-Variant': delivery.variant,
    'X-Chorus-Op': delivery.opId,
    // RFC 3834: made by a process, not a person, so vacation and other auto-replies hold back.
    // A receipt has no List-* header by which a responder would know it, and an answer to a
    // From mailbox that answers automatically itself would loop.
    'Auto-Submitted': 'auto-generated',
  };
  if (delivery.unsubscribeUrl && delivery.topic !== 'transactional') {
    headers['List-Unsubscribe'] = `<${delivery.unsubscribeUrl}>`;
    // RFC 8058 one-click is defined for HTTPS URLs only; an http URL (local development) keeps
    // the plain List-Unsubscribe header without promising one-click.
    if (delivery.unsubscribeUrl.startsWith('https://')) {
      headers['List-Unsubscribe-Post'] = 'List-Unsubscribe=One-Click';
    }
  }
  return {
    from,
    to: ready.to,
    subject: rendered.subject,
    html: rendered.html,
    text: rendered.text,
    messageId: emailMessageId(delivery.opId, domain, delivery.requestedAt),
    headers,
  };
}

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
 * Enhanced status codes (RFC 3463) by which a server refusing `RCPT TO` says the address itself
 * cannot receive mail: no such mailbox (5.1.1), no such domain (5.1.2), a malformed address
 * (5.1.3), a domain that takes no mail (5.1.10, a null MX, RFC 7505). Found at the start of any
 * line of the reply, which may span several.
 */
const ADDRESS_UNUSABLE = /^5\d\d[ -]5\.1\.(?:1|2|3|10)\b/m;

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
 * What nodemailer's error says of a send. A 2xx after the whole message (the reply, cut short
 * before its line ended, with the connection) is a send. A 5xx to the message's recipient or content is permanent; a 5xx
 * to the login, the sender or the connection is the account's or the setup's, and a 4xx is
 * transient: both are retried. Without a reply code the server was not heard: once it had the
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
    if ((command === 'RCPT TO' || command === 'DATA') && ADDRESS_UNUSABLE.test(said))
      return {
        status: 'failed',
        reason: `SMTP server refused the address, which cannot receive mail: ${said}`,
        addressUnusable: true,
        addressGone: true,
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

function dkimOptions(dkim: EmailDkimOptions) {
  try {
    createPrivateKey(dkim.privateKey);
  } catch (error) {
    throw new ChannelConfigError(
      'dkim.privateKey',
      'The DKIM private key cannot be read. To fix: pass the PEM text of an RSA or Ed25519 private key.',
      { cause: error },
    );
  }
  const names = (dkim.headerFieldNames ?? DKIM_HEADER_FIELDS).split(':').filter(Boolean);
  for (const required of ['List-Unsubscribe', 'List-Unsubscribe-Post']) {
    if (!names.some((name) => name.toLowerCase() === required.toLowerCase())) names.push(required);
  }
  return {
    domainName: dkim.domainName,
    keySelector: dkim.keySelector,
    privateKey: dkim.privateKey,
    headerFieldNames: names.join(':'),
  };
}
