import type { AddressInfo } from 'node:net';
import { simpleParser, type ParsedMail } from 'mailparser';
import { SMTPServer } from 'smtp-server';

/**
 * What the sink answers to the next message: accept, greylist (451), refuse (550), or `hold`:
 * never answer, so the sender waits mid-send.
 */
export type SmtpAnswer = 250 | 451 | 550 | 'hold';

/** How the sink speaks TLS: not at all (default), from the first byte (smtps), or after STARTTLS. */
export type SmtpSinkTls = 'none' | 'implicit' | 'starttls';

/**
 * A real SMTP server in the test process. `answers` scripts the replies to the next messages
 * (then it accepts); `attempts` holds every message offered, `received` the accepted ones.
 * With TLS it presents smtp-server's built-in self-signed certificate, and records in `secured`
 * whether each message came over TLS.
 */
export async function startSmtpSink({ tls = 'none' }: { tls?: SmtpSinkTls } = {}) {
  const sink = {
    answers: [] as SmtpAnswer[],
    attempts: [] as ParsedMail[],
    received: [] as ParsedMail[],
    secured: [] as boolean[],
    port: 0,
    url: '',
    reset() {
      sink.answers = [];
      sink.attempts.length = 0;
      sink.received.length = 0;
      sink.secured.length = 0;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
  const server = new SMTPServer({
    authOptional: true,
    secure: tls === 'implicit',
    disabledCommands: tls === 'starttls' ? [] : ['STARTTLS'],
    logger: false,
    onData(stream, session, callback) {
      simpleParser(stream).then((mail) => {
        sink.attempts.push(mail);
        sink.secured.push(session.secure);
        const answer = sink.answers.shift() ?? 250;
        if (answer === 'hold') return;
        if (answer === 250) {
          sink.received.push(mail);
          return callback();
        }
        const error = new Error(answer === 451 ? 'Greylisted, try again later' : 'Mailbox unavailable');
        callback(Object.assign(error, { responseCode: answer }));
      }, callback);
    },
  });
  // A client that drops its connection (a test closing its transport mid-send) must not become
  // an uncaught 'error' event in the test process.
  server.on('error', () => {});
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  sink.port = (server.server.address() as AddressInfo).port;
  // A client must accept the self-signed certificate; only TLS sinks need the query.
  sink.url =
    tls === 'none'
      ? `smtp://127.0.0.1:${sink.port}`
      : `${tls === 'implicit' ? 'smtps' : 'smtp'}://127.0.0.1:${sink.port}/?tls.rejectUnauthorized=false`;
  return sink;
}

export type SmtpSink = Awaited<ReturnType<typeof startSmtpSink>>;

/** A header as written, unfolded: mailparser merges `List-*` headers into one object. */
export function header(mail: ParsedMail, name: string): string | undefined {
  const line = mail.headerLines.find((entry) => entry.key === name)?.line;
  return line
    ?.slice(line.indexOf(':') + 1)
    .replace(/\r?\n[ \t]+/g, ' ')
    .trim();
}
