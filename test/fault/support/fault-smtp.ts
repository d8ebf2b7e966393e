import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';

/** One message the server accepted, by the headers the checks need. */
export interface AcceptedMail {
  messageId: string;
  op: string;
  message: string;
  to: string;
}

/**
 * A real SMTP server whose answers a test switches: accept everything, or refuse for a while
 * with a 4xx reply (421 at the greeting, 451 after the data), as a provider in trouble does.
 * It reads only the header block of each message (no MIME parsing), so thousands of emails cost
 * little, and counts every accepted message by its Message-ID.
 */
export async function startFaultSmtp() {
  let refusingUntil = 0;
  let connections = 0;
  const state = {
    accepted: [] as AcceptedMail[],
    /** Messages answered 451 after their data, and connections answered 421. */
    refusedMessages: 0,
    refusedConnections: 0,
    port: 0,
    url: '',
    /**
     * Refuse with 4xx for `ms` from now, then accept again: every other new connection with 421
     * at the greeting, and every message on the connections let in with 451 after its data.
     */
    refuseFor(ms: number) {
      refusingUntil = Date.now() + ms;
    },
    refusing: () => Date.now() < refusingUntil,
    /** While true, messages get no answer at all after their data: the sender waits mid-send. */
    holding: false,
    /** Messages that got no answer while holding (never counted as accepted). */
    held: 0,
    /** Connections that ended in a socket error, such as a reset from a killed worker. */
    connectionErrors: 0,
    /** Accepted messages per Message-ID, for the ones accepted more than once. */
    duplicates(): Map<string, number> {
      const counts = new Map<string, number>();
      for (const mail of state.accepted) counts.set(mail.messageId, (counts.get(mail.messageId) ?? 0) + 1);
      return new Map([...counts].filter(([, n]) => n > 1));
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
  const transient = (code: number, text: string) => Object.assign(new Error(text), { responseCode: code });
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    // nodemailer pools 5 connections per process; a few processes reconnecting must not be turned away.
    maxClients: 200,
    onConnect(_session, callback) {
      if (!state.refusing() || connections++ % 2 === 0) return callback();
      state.refusedConnections++;
      callback(transient(421, 'Service not available, closing transmission channel'));
    },
    onData(stream, _session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', () => {
        if (state.holding) {
          state.held++;
          return;
        }
        if (state.refusing()) {
          state.refusedMessages++;
          return callback(transient(451, 'Requested action aborted: local error in processing'));
        }
        state.accepted.push(headersOf(Buffer.concat(chunks).toString('utf8')));
        callback();
      });
    },
  });
  // A worker killed mid-send resets its connection. smtp-server reports that as an 'error' event,
  // which with no listener is thrown out of the test process as an uncaught exception.
  server.on('error', () => {
    state.connectionErrors++;
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  state.port = (server.server.address() as AddressInfo).port;
  state.url = `smtp://127.0.0.1:${state.port}`;
  return state;
}

export type FaultSmtp = Awaited<ReturnType<typeof startFaultSmtp>>;

function headersOf(raw: string): AcceptedMail {
  const block = raw.slice(0, raw.search(/\r?\n\r?\n/)).replace(/\r?\n[ \t]+/g, ' ');
  const header = (name: string) => new RegExp(`^${name}:[ \\t]*(.*)$`, 'im').exec(block)?.[1]?.trim() ?? '';
  return {
    messageId: header('Message-ID'),
    op: header('X-Chorus-Op'),
    message: header('X-Chorus-Message'),
    to: header('To'),
  };
}
