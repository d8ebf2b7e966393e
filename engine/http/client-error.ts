import { randomUUID } from 'node:crypto';
import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import type { ErrorBody } from './http-errors.js';

/** What Node's HTTP parser reports about a request it cannot read. */
export interface ClientError extends Error {
  code?: string;
  /** llhttp's own words, such as "Invalid header value char". */
  reason?: string;
}

/**
 * Answers a request Node's HTTP parser refused before Fastify saw it (a line break or NUL in a
 * header value, two Content-Lengths, bytes that are not a request line, headers too large) in
 * the API's error shape, naming the parser's complaint, where Fastify would say only "Client
 * Error". Nothing of such a request reaches a route.
 */
export function answerClientError(error: ClientError, socket: Socket): void {
  // A reset connection has no one to answer.
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  const timedOut = error.code === 'ERR_HTTP_REQUEST_TIMEOUT';
  const [status, what] = timedOut
    ? [408, 'it did not arrive whole in time (REQUEST_TIMEOUT_MS)']
    : error.code === 'HPE_HEADER_OVERFLOW'
      ? [431, 'its headers are larger than this server accepts']
      : [
          400,
          `it is not valid HTTP (${error.code ?? 'unreadable'}${error.reason ? `: ${error.reason}` : ''})`,
        ];
  const fix = timedOut
    ? 'send the whole request, headers and body, without pausing; split a large batch if the link is slow'
    : 'send one HTTP/1.1 request whose header values hold no line breaks or NUL, with one Content-Length or chunked body';
  // The request's own X-Request-Id cannot be read: a new one, in the header as on every answer.
  const requestId = randomUUID();
  const body: ErrorBody = {
    error: {
      code: 'CHORUS_BAD_REQUEST',
      message: `The request was refused before it was read: ${what}. To fix: ${fix}.`,
      requestId,
    },
  };
  const text = JSON.stringify(body);
  if (socket.writable)
    socket.write(
      `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Length: ${Buffer.byteLength(text)}\r\n` +
        `Content-Type: application/json; charset=utf-8\r\nX-Request-Id: ${requestId}\r\n` +
        `Connection: close\r\n\r\n${text}`,
    );
  socket.destroy(error);
}
