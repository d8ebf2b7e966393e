import { connect, type Socket } from 'node:net';

/** The part of nodemailer's transport options a socket factory reads. */
interface SmtpEndpoint {
  host?: string | undefined;
  port?: number | undefined;
  secure?: boolean | undefined;
  localAddress?: string | undefined;
}

/**
 * nodemailer's `getSocket` hook: hands over `{ connection }`, a connected socket, or one whose
 * connect failed and that emits the error once nodemailer listens (see `noDelaySmtpSocket`).
 */
export type GetSmtpSocket = (
  options: SmtpEndpoint,
  callback: (error: Error | null, socketOptions?: { connection: Socket }) => void,
) => void;

/**
 * A `getSocket` hook for nodemailer that opens every SMTP connection with TCP_NODELAY.
 *
 * nodemailer writes the `.` that ends a message in a write of its own. With Nagle's algorithm on,
 * that small write waits for the server to acknowledge the body, and servers delay that ACK
 * (40 ms on Linux, up to 200 ms elsewhere): one connection then manages about 22 messages a
 * second. Without Nagle the same connection sends several hundred.
 *
 * nodemailer takes a socket given as `connection` as already connected and still does the rest:
 * for `secure` (smtps://) it wraps it in TLS before the greeting, and STARTTLS upgrades it later.
 * TCP_NODELAY is set on the TCP socket, so it holds under either TLS layer.
 */
export function noDelaySmtpSocket(connectTimeoutMs: number): GetSmtpSocket {
  return (options, callback) => {
    // The same defaults nodemailer applies when it connects by itself.
    const port = Number(options.port) || (options.secure ? 465 : 587);
    const socket = connect({
      host: options.host ?? 'localhost',
      port,
      noDelay: true,
      ...(options.localAddress ? { localAddress: options.localAddress } : {}),
    });
    // nodemailer's own connection timeout starts only once it has the socket: bound the connect here.
    const timer = setTimeout(() => {
      socket.destroy();
      done(
        Object.assign(new Error(`Connection timeout after ${connectTimeoutMs} ms`), { code: 'ETIMEDOUT' }),
      );
    }, connectTimeoutMs);
    const onError = (error: Error) => done(error);
    function done(error: Error | null) {
      clearTimeout(timer);
      socket.removeListener('error', onError);
      socket.removeListener('connect', onConnect);
      callback(null, { connection: socket });
      // A failed connect is handed over as a socket that errs, not as the callback's error: the
      // pool frees a connection's slot only when the connection itself errs or closes, and given
      // the error, it kept the slot busy for ever; once every slot had failed once, each later
      // send waited for one to come free. nodemailer listens on the socket before the callback
      // returns, and sees the error as a failed connection, which it reports to the sender.
      if (!error) return;
      if (socket.listenerCount('error') > 0) socket.emit('error', error);
      else
        socket.once(
          'newListener',
          (event) => event === 'error' && setImmediate(() => socket.emit('error', error)),
        );
    }
    function onConnect() {
      done(null);
    }
    socket.once('error', onError);
    socket.once('connect', onConnect);
  };
}
