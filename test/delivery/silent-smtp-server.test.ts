import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';
import { afterEach, describe, expect, it } from 'vitest';
import { createEmailAdapter, type Engine } from '../../engine/index.js';
import { pingEmail } from '../fixtures/journeys-ping/ping.js';
import { deliveryEngine, TEST_MAIL_FROM } from '../support/delivery.js';
import { eventually, testRedis } from '../support/redis.js';

/** How long the adapter waits for each answer; the server below answers later than that. */
const TIMEOUT_MS = 300;

/**
 * An SMTP server that takes every message (counted by Message-ID, as a queueing server would
 * have it) and never answers the end of the data of the first `slow` ones: the client gives up
 * waiting with the message already taken.
 */
async function slowToAnswer(slow: number, onTaken?: () => void) {
  const taken: string[] = [];
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onData(stream, _session, callback) {
      let raw = '';
      stream.on('data', (chunk: Buffer) => (raw += chunk.toString('utf8')));
      stream.on('end', () => {
        taken.push(/^Message-ID: (.*)$/im.exec(raw)?.[1]?.trim() ?? '?');
        onTaken?.();
        if (taken.length > slow) callback();
      });
    },
  });
  server.on('error', () => {});
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `smtp://127.0.0.1:${(server.server.address() as AddressInfo).port}`,
    taken,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

describe('an SMTP server that takes the message and does not answer in time', () => {
  let ctx: ReturnType<typeof testRedis>;
  let engine: Engine | undefined;
  let smtp: Awaited<ReturnType<typeof slowToAnswer>> | undefined;

  afterEach(async () => {
    await engine?.close();
    await smtp?.close();
    await ctx.cleanup();
  });

  async function run(slow: number, onTaken?: () => void, timeoutMs = TIMEOUT_MS) {
    ctx = testRedis();
    smtp = await slowToAnswer(slow, onTaken);
    engine = deliveryEngine(ctx, [pingEmail], {
      adapters: { email: createEmailAdapter({ from: TEST_MAIL_FROM, smtpUrl: smtp.url, timeoutMs }) },
    });
    engine.startWorkers();
    await engine.identify({ userId: 'eve', traits: { email: 'eve@example.com', firstName: 'Eve' } });
    await engine.track({ userId: 'eve', event: 'Ping email' });
    const [entry] = await eventually(
      async () => {
        const { messages } = await engine!.customer('eve');
        return messages.length > 0 ? messages : undefined;
      },
      20_000,
      'the send to end',
    );
    return entry!;
  }

  it('sends it again once, marked resent, and records that copy when it is answered', async () => {
    const entry = await run(1);
    expect(entry).toMatchObject({ status: 'sent', resent: true });
    expect(smtp!.taken).toHaveLength(2);
    expect(new Set(smtp!.taken).size).toBe(1);
  });

  it('records unknown, not failed, when the second copy is not answered either: two copies at most', async () => {
    const entry = await run(Infinity);
    expect(entry).toMatchObject({
      status: 'unknown',
      reason: expect.stringContaining('not sent a third time'),
    });
    // Given time for any further attempt.
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(smtp!.taken).toHaveLength(2);
  });

  it('does not let the policy or a fallback undo the send: the retry records unknown when the address is gone', async () => {
    // The adapter waits long enough for the identify to be applied before its retry.
    const entry = await run(
      Infinity,
      () => void engine!.identify({ userId: 'eve', traits: { email: null } }),
      2_000,
    );
    expect(entry).toMatchObject({
      status: 'unknown',
      reason: expect.stringContaining('an earlier attempt left it with its provider'),
    });
    expect(smtp!.taken).toHaveLength(1);
  });
});
