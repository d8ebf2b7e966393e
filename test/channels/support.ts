import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Delivery } from '../../engine/channels/channel-adapter.js';
import type { Channel } from '../../engine/journey/journey-schema.js';
import type { RenderedMessage } from '../../engine/messages/rendered-message.js';

const rendered: { [C in Channel]: Extract<RenderedMessage, { channel: C }> } = {
  email: {
    channel: 'email',
    subject: 'Your workspace is ready',
    html: '<p>Hello Ada, <a href="https://acme.example/start">get started</a></p>',
    text: 'Hello Ada, get started: https://acme.example/start',
  },
  sms: {
    channel: 'sms',
    body: 'Acme: your workspace is ready https://acme.example/s',
    encoding: 'GSM-7',
    segments: 1,
  },
  push: {
    channel: 'push',
    title: 'Workspace ready',
    body: 'Tap to get started',
    url: 'https://acme.example/start',
  },
  'in-app': {
    channel: 'in-app',
    title: 'Workspace ready',
    body: 'Invite your team',
    cta: { label: 'Invite', url: 'https://acme.example/invite' },
  },
  webhook: { channel: 'webhook', payload: { event: 'workspace.ready', customer: 'ada', amount: 12.5 } },
};

/** A delivery of the onboarding welcome on `channel`, as the delivery worker would hand it over. */
export function deliveryFor(channel: Channel, overrides: Partial<Delivery> = {}): Delivery {
  return {
    opId: 's-ada-onboarding.1-3-0',
    customerId: 'ada',
    journeyId: 'onboarding',
    journeyVersion: 2,
    message: 'welcome',
    variant: 'subject-test=b',
    channel,
    address: {
      email: 'ada@example.com',
      phone: '+15005550006',
      pushToken: 'device-token-1',
      webhookUrl: 'https://hooks.example/chorus',
    },
    rendered: rendered[channel],
    unsubscribeUrl: 'https://acme.example/u/ada?sig=abc',
    ...overrides,
  };
}

/** What a local server received. */
export interface ReceivedRequest {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: Buffer;
  /** When it arrived (ms since the epoch), for checking retry delays. */
  at: number;
}

/**
 * Answers one request: status, optional headers and body. `unfinished` sends the status line and
 * the start of the body, then never ends it (`hang`) or drops the connection (`reset`).
 */
export type Reply =
  { status: number; headers?: Record<string, string>; body?: string; unfinished?: 'hang' | 'reset' } | 'hang';

/**
 * A real HTTP server on 127.0.0.1 that records every request and answers from `replies` in turn
 * (the last one repeats). `'hang'` never answers, for timeout tests.
 */
export async function startHttpServer(...replies: Reply[]) {
  const requests: ReceivedRequest[] = [];
  const hanging: ServerResponse[] = [];
  const server = createServer((request: IncomingMessage, response: ServerResponse) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      requests.push({
        method: request.method ?? '',
        url: request.url ?? '',
        headers: request.headers,
        body: Buffer.concat(chunks),
        at: Date.now(),
      });
      const reply = replies[Math.min(requests.length, replies.length) - 1] ?? { status: 200 };
      if (reply === 'hang') {
        hanging.push(response);
        return;
      }
      response.writeHead(reply.status, { 'content-type': 'application/json', ...reply.headers });
      if (reply.unfinished) {
        // A length the body never reaches, so the client waits for the rest.
        response.write(reply.body ?? '');
        if (reply.unfinished === 'reset') setTimeout(() => response.destroy(), 20);
        else hanging.push(response);
        return;
      }
      response.end(reply.body ?? '');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    port,
    url: `http://127.0.0.1:${port}`,
    requests,
    async close() {
      for (const response of hanging) response.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** A port nothing listens on (bound, then released). */
export async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
