import { PassThrough } from 'node:stream';
import { createGunzip, createInflate } from 'node:zlib';
import type { preParsingHookHandler } from 'fastify';
import { HttpError } from './http-errors.js';

/** The `Content-Encoding`s a request body may have, and what inflates each. */
const DECODERS = { gzip: createGunzip, 'x-gzip': createGunzip, deflate: createInflate } as const;

const isDecoded = (encoding: string): encoding is keyof typeof DECODERS => Object.hasOwn(DECODERS, encoding);

/**
 * The `preParsing` hook that inflates a compressed request body before it is parsed: Segment's
 * mobile libraries, and its server ones when asked, send their batches gzipped. The parser reads
 * the inflated bytes, so `BODY_LIMIT` bounds what the body inflates to (a small body that inflates
 * to gigabytes is refused with 413 as it grows), and the `Content-Length` the client sent is
 * checked against the bytes it sent (`receivedEncodedLength`).
 */
export const inflateBody: preParsingHookHandler = (request, _reply, payload, done) => {
  const header = request.headers['content-encoding'];
  const encoding = (typeof header === 'string' ? header : '').trim().toLowerCase();
  if (encoding === '' || encoding === 'identity') return done(null, payload);
  if (!isDecoded(encoding))
    return done(
      new HttpError(
        415,
        'CHORUS_UNSUPPORTED_MEDIA_TYPE',
        `The body's Content-Encoding "${encoding.slice(0, 40)}" cannot be read. To fix: send it uncompressed, or as gzip or deflate.`,
      ),
    );
  const decoder = DECODERS[encoding]();
  const inflated = Object.assign(new PassThrough(), { receivedEncodedLength: 0 });
  // A route that does not read its body (a GET) never listens for the stream's errors; one that
  // does adds a listener of its own.
  inflated.on('error', () => undefined);
  payload.on('data', (chunk: Buffer) => {
    inflated.receivedEncodedLength += chunk.length;
  });
  payload.on('error', (error) => inflated.destroy(error));
  decoder.on('error', (error) => {
    // No bytes is no body, whatever the headers say (as for an empty JSON body, see create-app):
    // the decoder calls them a truncated stream, but there is nothing to inflate.
    if (inflated.receivedEncodedLength === 0) {
      inflated.end();
      return;
    }
    // A body that does not inflate is answered as the client's mistake, naming the encoding.
    inflated.destroy(
      new HttpError(
        400,
        'CHORUS_BAD_REQUEST',
        `The body is not valid ${encoding} (${error.message}). To fix: compress the whole body once, or send it uncompressed.`,
      ),
    );
  });
  payload.pipe(decoder).pipe(inflated);
  done(null, inflated);
};
