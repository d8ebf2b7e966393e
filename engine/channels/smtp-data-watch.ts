import type { Transporter } from 'nodemailer';
import type Mail from 'nodemailer/lib/mailer/index.js';

/**
 * Whether nodemailer handed a message's whole body to the SMTP server. An error after that, with
 * no answer from the server (a timeout, a dropped connection), leaves the message with the server,
 * which may well have queued it: RFC 1047 describes servers that take longer to answer the end of
 * the data than the client waits.
 */
export interface DataWatch {
  sent: boolean;
}

/** The field of a message's options that carries its watch; nodemailer copies it and ignores it. */
const WATCH_FIELD = 'chorusDataWatch';

/** The message options with `watch` attached (see watchData). */
export function watched(mail: Mail.Options, watch: DataWatch): Mail.Options {
  return { ...mail, [WATCH_FIELD]: watch } as Mail.Options;
}

/**
 * Makes `transport` mark each watched message (see watched) once its body stream ends: the SMTP
 * connection writes the end-of-data mark right after. Uses nodemailer's `stream` plugin step,
 * which runs once the message is composed and before a connection takes it.
 */
export function watchData(transport: Transporter): void {
  transport.use('stream', (mail, done) => {
    const watch = (mail.data as Record<string, unknown>)[WATCH_FIELD] as DataWatch | undefined;
    const message = mail.message;
    if (watch) {
      const create = message.createReadStream.bind(message);
      message.createReadStream = (...args: Parameters<typeof create>) => {
        const stream = create(...args);
        stream.once('end', () => (watch.sent = true));
        return stream;
      };
    }
    done();
  });
}
