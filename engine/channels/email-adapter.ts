import { createPrivateKey } from 'node:crypto';
import nodemailer from 'nodemailer';
import type Mail from 'nodemailer/lib/mailer/index.js';
import type { Logger } from '../logger.js';
import { headerOpId } from '../runtime/ids.js';
import type { ChannelAdapter, Delivery, DeliveryResult } from './channel-adapter.js';
import { deliverable } from './deliverable.js';
import { ChannelConfigError } from './errors.js';
import { describeError } from './http-result.js';
import { eraseOutboxFile, eraseOutboxFiles, outboxFileName, writeOutboxFile } from './outbox-file.js';
import { senderDomain, senderParts } from './sender-domain.js';
import { watchData, watched, type DataWatch } from './smtp-data-watch.js';
import { noDelaySmtpSocket } from './smtp-socket.js';
import { smtpOutcome } from './smtp-outcome.js';
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
 * same user id, whose journeys start again from their first entry. A long operation id is
 * carried as its digest (see headerOpId), as in `X-Chorus-Op`.
 */
export function emailMessageId(opId: string, domain: string, requestedAt?: number): string {
  const local = headerOpId(opId);
  return requestedAt === undefined
    ? `<${local}@${domain}>`
    : `<${local}.${requestedAt.toString(36)}@${domain}>`;
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
 * mailbox, 5.1.10 null MX, or a provider's words for it); 552 to the recipient (a full mailbox),
 * 5xx to the login, the sender or the connection, and a refusal of the sender's authentication
 * (SPF, DKIM, DMARC: 5.7.20 to 5.7.27) → `retry` (see smtpOutcome in smtp-outcome.ts).
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
      eraseCustomer(customerId: string): Promise<number> {
        return eraseOutboxFiles(outboxDir, 'email', customerId, outboxEmailOwnedBy);
      },
      eraseSend(opId: string): Promise<void> {
        return eraseOutboxFile(outboxDir, 'email', opId, 'eml');
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
    'X-Chorus-Op': headerOpId(delivery.opId),
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

/**
 * Whether an outbox `.eml` whose shortened name matched is the customer's: its `X-Chorus-Op`
 * names the operation when that id is short enough, else only its hash (see headerOpId), which
 * cannot be told apart: such a file is taken to be theirs, as its name began like their ids.
 */
function outboxEmailOwnedBy(content: string, opPrefix: string): boolean {
  const op = /^X-Chorus-Op: *(\S+)/im.exec(content)?.[1];
  return op === undefined || op.startsWith('h-') || op.startsWith(opPrefix);
}
