import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEmailAdapter, FakeClock, type Engine } from '../../engine/index.js';
import { oneSendJourney } from '../support/channel-journeys.js';
import { deliveryEngine, TEST_MAIL_FROM } from '../support/delivery.js';
import { eventually, testRedis } from '../support/redis.js';

const hello = oneSendJourney({ id: 'hello', event: 'Hello', message: 'welcome', channels: ['email'] });

/** An SMTP server that keeps every message waiting for its answer until the test gives it. */
async function heldSmtpServer() {
  const waiting: Array<(error?: Error) => void> = [];
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onData(stream, _session, callback) {
      stream.resume();
      stream.on('end', () => waiting.push(callback));
    },
  });
  server.on('error', () => {});
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `smtp://127.0.0.1:${(server.server.address() as AddressInfo).port}`,
    waiting,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** A 4xx answer quoting the recipient, as servers often word them. */
const greylisted = () =>
  Object.assign(new Error('4.2.0 <eve@example.com> greylisted, try again later'), { responseCode: 451 });

describe('a send job that outlives the erasure of its customer', () => {
  let ctx: ReturnType<typeof testRedis>;
  let engine: Engine;
  let smtp: Awaited<ReturnType<typeof heldSmtpServer>>;

  beforeAll(async () => {
    ctx = testRedis();
    smtp = await heldSmtpServer();
    engine = deliveryEngine(
      ctx,
      [hello],
      { adapters: { email: createEmailAdapter({ from: TEST_MAIL_FROM, smtpUrl: smtp.url }) } },
      { clock: new FakeClock() },
    );
    engine.startWorkers();
  });

  afterAll(async () => {
    for (const answer of smtp.waiting.splice(0)) answer();
    await engine.close();
    await smtp.close();
    await ctx.cleanup();
  });

  it("keeps no failure text or stack trace of its attempts, before or after the erasure, which may quote the customer's address", async () => {
    await engine.identify({ userId: 'eve', traits: { email: 'eve@example.com' } });
    await engine.track({ userId: 'eve', event: 'Hello' });
    // The first attempt fails quoting the address; the second is with the server when the erasure runs.
    await eventually(async () => smtp.waiting.length === 1, 20_000, 'the first attempt');
    smtp.waiting.shift()!(greylisted());
    await eventually(async () => smtp.waiting.length === 1, 20_000, 'the second attempt');
    const email = engine.queues.forCustomer('eve').deliveries.email;
    const [running] = await email.getActive();
    expect(running?.failedReason).toContain('eve@example.com');

    expect(await engine.erase('eve')).toMatchObject({ jobsRunning: 1 });
    smtp.waiting.shift()!(greylisted());

    const job = await eventually(
      async () => {
        const counts = await email.getJobCounts('active', 'waiting', 'delayed', 'failed');
        const completed = await email.getCompleted();
        return Object.values(counts).every((n) => n === 0) && completed.length === 1
          ? completed[0]
          : undefined;
      },
      20_000,
      'the email job to end',
    );
    expect(job.returnvalue).toBe('already skipped');
    const stored = await ctx.redis.hgetall(email.toKey(job.id!));
    expect(JSON.stringify(stored)).not.toContain('eve@example.com');
    expect(smtp.waiting).toHaveLength(0);
  }, 40_000);
});
