import http, { type IncomingMessage } from 'node:http';
import https from 'node:https';
import type { LookupFunction } from 'node:net';
import type { HttpAnswer } from './http-result.js';
import type { ResolvedAddress } from './target-guard.js';

/** Bodies are read for error reasons and provider ids only: never hold more than this. */
export const MAX_BODY_BYTES = 64 * 1024;

/**
 * The request failed before its connection was ready (TCP connected and, for https, the TLS
 * handshake done): not a byte of it was written, so the provider cannot have it. The cause is
 * the error met (refused, a stalled handshake cut by the deadline, a certificate refused).
 */
export class NotConnectedError extends Error {}

export interface PostOptions {
  headers: Readonly<Record<string, string>>;
  body: string;
  /** Deadline for the whole exchange: connect, headers and body. */
  timeoutMs: number;
  /**
   * Connect to these addresses, in turn until one answers, rather than resolving the URL's host
   * again (a webhook target checked beforehand: a second DNS answer could lead elsewhere). The
   * host name is kept for `Host` and TLS.
   */
  pinned?: readonly [ResolvedAddress, ...ResolvedAddress[]];
}

/**
 * POSTs `body` and reads the answer, following no redirect. Throws `NotConnectedError` when the
 * request never left (so a provider that cannot recognise a repeat may be sent it again), and
 * the request's own error when it may have arrived: a timeout or dropped connection after it was
 * written. Once the status line is in, it is the provider's answer: a body that then stalls past
 * the deadline or breaks off is kept as far as it came, so a 2xx is not taken for "no answer".
 *
 * `node:http(s)` rather than `fetch`, whose errors do not say whether the connection was made:
 * a deadline met during a stalled TLS handshake would read as a request that may have arrived.
 *
 * @example
 * ```ts
 * const answer = await postWithTimeout('https://api.example.com/send', { headers, body, timeoutMs: 10_000 });
 * ```
 */
export function postWithTimeout(url: string | URL, options: PostOptions): Promise<HttpAnswer> {
  const target = typeof url === 'string' ? new URL(url) : url;
  const { pinned } = options;
  // With `all` (Node's default, autoSelectFamily), the connection tries each address in turn.
  const lookup: LookupFunction | undefined = pinned
    ? (_hostname, lookupOptions, callback) => {
        if (lookupOptions.all)
          callback(
            null,
            pinned.map(({ address, family }) => ({ address, family })),
          );
        else callback(null, pinned[0].address, pinned[0].family);
      }
    : undefined;
  const secure = target.protocol === 'https:';
  const client = secure ? https : http;
  return new Promise((resolve, reject) => {
    // Once the status line is in, the request's own errors (the deadline's abort, a dropped
    // connection) only cut the body short: readCapped settles with what came.
    let answered = false;
    // Until the connection is ready the request is only queued on it: an error then (refused, a
    // stalled TLS handshake, a certificate refused) means it never left.
    let ready = false;
    const request = client.request(
      target,
      {
        method: 'POST',
        ...(lookup ? { lookup } : {}),
        signal: AbortSignal.timeout(options.timeoutMs),
        headers: { ...options.headers, 'content-length': String(Buffer.byteLength(options.body)) },
      },
      (response) => {
        answered = true;
        void readCapped(response).then((text) =>
          resolve({
            status: response.statusCode ?? 0,
            header: (name) => {
              const value = response.headers[name.toLowerCase()];
              return Array.isArray(value) ? value.join(', ') : value;
            },
            body: text,
          }),
        );
      },
    );
    request.on('socket', (socket) => {
      if (request.reusedSocket) ready = true;
      else socket.once(secure ? 'secureConnect' : 'connect', () => (ready = true));
    });
    request.on('error', (error) => {
      if (!answered) reject(ready ? error : new NotConnectedError(error.message, { cause: error }));
    });
    request.end(options.body);
  });
}

/** The body, cut at MAX_BODY_BYTES; what came when it stalls past the deadline or breaks off. */
function readCapped(response: IncomingMessage): Promise<string> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const sofar = () => Buffer.concat(chunks).subarray(0, MAX_BODY_BYTES).toString('utf8');
    response.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      size += chunk.length;
      if (size >= MAX_BODY_BYTES) {
        response.destroy();
        resolve(sofar());
      }
    });
    response.on('end', () => resolve(sofar()));
    // The deadline's abort, or a dropped connection: the first settles, later calls are no-ops.
    response.on('error', () => resolve(sofar()));
    response.on('close', () => resolve(sofar()));
  });
}
