import type { ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyInstance } from 'fastify';

/**
 * Makes `app.close()` wait for the requests being answered, and for nothing else: at close,
 * connections with no request in flight are closed at once, and the others as soon as their last
 * response has gone out (marked `Connection: close` when its headers are not yet sent).
 *
 * Node's `server.close()` does less: it closes only the keep-alive connections that have served a
 * request and sit idle. A connection a client opened but has not used yet (fetch's pool opens
 * such spares) counts as busy, and one whose response was in flight stays open after it: either
 * kept `app.close()`, and so a SIGTERM, waiting for the keep-alive timeout (72 s). Fastify's
 * `forceCloseConnections: true` closes them, but cuts short the responses in flight too.
 */
export function closeConnectionsOnClose(app: FastifyInstance): void {
  /** The responses in flight on each open connection. */
  const open = new Map<Socket, Set<ServerResponse>>();
  let closing = false;

  app.server.on('connection', (socket: Socket) => {
    open.set(socket, new Set());
    socket.once('close', () => open.delete(socket));
  });
  app.server.on('request', (request, response: ServerResponse) => {
    const socket = request.socket;
    const responses = open.get(socket);
    if (!responses) return;
    responses.add(response);
    response.once('close', () => {
      responses.delete(response);
      if (closing && responses.size === 0) socket.end();
    });
  });
  // preClose runs once Fastify answers new requests 503, and before the server stops listening.
  app.addHook('preClose', (done) => {
    closing = true;
    for (const [socket, responses] of open) {
      if (responses.size === 0) socket.destroy();
      for (const response of responses) if (!response.headersSent) response.setHeader('connection', 'close');
    }
    done();
  });
}
