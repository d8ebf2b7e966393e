import { Agent, request, type IncomingMessage } from 'node:http';
import { connect, type AddressInfo, type Socket } from 'node:net';
import Fastify from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { closeConnectionsOnClose } from '../../engine/http/close-connections.js';
import { onboarding } from '../fixtures/journeys/onboarding.js';
import { httpHarness, type HttpHarness } from '../support/http.js';

/** A GET over `agent`, resolving with the response and its body. */
function get(port: number, path: string, agent: Agent): Promise<{ res: IncomingMessage; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ port, host: '127.0.0.1', path, agent }, (res) => {
      let body = '';
      res.on('data', (chunk: Buffer) => (body += chunk.toString()));
      res.on('end', () => resolve({ res, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** A connection opened and left unused, as fetch's pool keeps spares. */
function unusedConnection(port: number): Promise<Socket> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1', () => resolve(socket));
    socket.on('error', () => {});
    socket.resume();
  });
}

/** How long `close` takes, failing well before the 72 s keep-alive timeout it must not wait for. */
async function timed(close: () => Promise<unknown>): Promise<number> {
  const started = Date.now();
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    close(),
    new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error('close() still waiting after 5 s')), 5_000);
    }),
  ]).finally(() => clearTimeout(timer));
  return Date.now() - started;
}

describe('closing the HTTP app', () => {
  let h: HttpHarness | undefined;
  const agent = new Agent({ keepAlive: true });
  afterEach(async () => {
    agent.destroy();
    await h?.close();
    h = undefined;
  });

  it('does not wait for keep-alive connections that sit idle or were never used', async () => {
    h = await httpHarness({ journeys: [onboarding], workers: false });
    await h.app.listen({ port: 0, host: '127.0.0.1' });
    const { port } = h.app.server.address() as AddressInfo;
    expect((await get(port, '/healthz', agent)).res.statusCode).toBe(200);
    const unused = await unusedConnection(port);
    const unusedClosed = new Promise((resolve) => unused.once('close', resolve));
    expect(await timed(() => h!.app.close())).toBeLessThan(1_000);
    await timed(() => unusedClosed);
  });

  it('lets a request in flight finish, then closes its connection', async () => {
    const app = Fastify();
    closeConnectionsOnClose(app);
    let answer: () => void = () => {};
    const answered = new Promise<void>((resolve) => (answer = resolve));
    let arrived: () => void = () => {};
    const slowArrived = new Promise<void>((resolve) => (arrived = resolve));
    app.get('/slow', async () => {
      arrived();
      await answered;
      return { done: true };
    });
    await app.listen({ port: 0, host: '127.0.0.1' });
    const { port } = app.server.address() as AddressInfo;
    const slow = get(port, '/slow', agent);
    await slowArrived;
    let closed = false;
    const closing = app.close().then(() => (closed = true));
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(closed).toBe(false);
    answer();
    const { res, body } = await slow;
    expect(res.statusCode).toBe(200);
    expect(JSON.parse(body)).toEqual({ done: true });
    expect(res.headers.connection).toBe('close');
    expect(await timed(() => closing)).toBeLessThan(1_000);
  });
});
