import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createEmailAdapter,
  createInAppAdapter,
  customerKeys,
  FakeClock,
  readInAppInbox,
  type Engine,
} from '../../engine/index.js';
import { keysSharingTag } from '../../engine/redis/scan-keys.js';
import { oneSendJourney } from '../support/channel-journeys.js';
import { deliveryEngine, TEST_MAIL_FROM } from '../support/delivery.js';
import { eventually, testRedis } from '../support/redis.js';

const hello = oneSendJourney({
  id: 'hello',
  event: 'Hello',
  message: 'welcome',
  channels: ['email', 'in-app'],
});

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

// The tests run in order, each on what the one before left: one customer erased, back, erased again.
describe('erasing a customer while one of their sends is with the provider', () => {
  let ctx: ReturnType<typeof testRedis>;
  let engine: Engine;
  let smtp: Awaited<ReturnType<typeof heldSmtpServer>>;
  const clock = new FakeClock();

  beforeAll(async () => {
    ctx = testRedis();
    smtp = await heldSmtpServer();
    engine = deliveryEngine(
      ctx,
      [hello],
      {
        adapters: {
          email: createEmailAdapter({ from: TEST_MAIL_FROM, smtpUrl: smtp.url }),
          'in-app': createInAppAdapter({ redis: ctx.redis, prefix: ctx.prefix }),
        },
      },
      { clock },
    );
    engine.startWorkers();
  });

  afterAll(async () => {
    for (const answer of smtp.waiting.splice(0)) answer();
    await engine.close();
    await smtp.close();
    await ctx.cleanup();
  });

  it('neither sends again nor falls back to another channel when the provider says try later, and writes nothing back', async () => {
    await engine.identify({ userId: 'eve', traits: { email: 'eve@example.com', firstName: 'Eve' } });
    await engine.track({ userId: 'eve', event: 'Hello', properties: { giftNote: 'For Eve, love Bo' } });
    await eventually(async () => smtp.waiting.length === 1, 20_000, 'the email to be with the server');

    const erased = await engine.erase('eve');
    expect(erased.jobsRunning).toBe(1);
    // The server answers "try later" after the erasure: the job outlives it and runs again.
    smtp.waiting.shift()!(Object.assign(new Error('Greylisted, try again later'), { responseCode: 451 }));

    const email = engine.queues.forCustomer('eve').deliveries.email;
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
    // Kept a day as completed, with its operation id and none of what the customer's event said.
    expect(JSON.stringify(job.data)).not.toContain('For Eve');

    // Not sent again, not handed to in-app (which needs no address), nothing of the customer back.
    expect(smtp.waiting).toHaveLength(0);
    expect(await readInAppInbox(ctx.redis, ctx.prefix, 'eve')).toEqual([]);
    // Listed in the customer's slot, so on a Redis Cluster too.
    const keys = customerKeys(ctx.prefix, 'eve');
    const left = (await keysSharingTag(ctx.redis, keys.state)).sort();
    expect(left).toEqual([keys.op(job.id!), keys.seqFloor].sort());
    expect(await ctx.redis.hgetall(keys.op(job.id!))).toEqual({
      state: 'skipped',
      erased: String(clock.now()),
    });
    // A number only: the highest entry of the erased customer, so a returning one numbers on from it.
    expect(await ctx.redis.get(keys.seqFloor)).toBe('1');
  }, 40_000);

  it("gives a customer who comes back with the same id their sends, not the erased ones' ended operations", async () => {
    await engine.identify({ userId: 'eve', traits: { email: 'eve@example.com', firstName: 'Eve' } });
    await engine.track({ userId: 'eve', event: 'Hello' });
    await eventually(async () => smtp.waiting.length === 1, 20_000, "the returning customer's email");
    smtp.waiting.shift()!();

    const view = await eventually(
      async () => {
        const customer = await engine.customer('eve');
        return customer.messages.some((message) => message.status === 'sent') ? customer : undefined;
      },
      20_000,
      'the email to be recorded sent',
    );
    expect(view.instances.map((instance) => instance.id)).toEqual(['hello.2']);
    expect(view.messages.filter((message) => message.status === 'sent')).toHaveLength(1);
  }, 40_000);

  it("keeps the first erasure's ended operations and the numbering through a second erasure with nothing running", async () => {
    const keys = customerKeys(ctx.prefix, 'eve');
    const firstEnded = (await keysSharingTag(ctx.redis, keys.state)).filter(
      (key) => key.includes(':op:') && key.includes('hello.1'),
    );
    expect(firstEnded).toHaveLength(1);

    const email = engine.queues.forCustomer('eve').deliveries.email;
    const firstJobId = firstEnded[0]!.slice(keys.op('').length);
    expect(await email.getJob(firstJobId)).toBeDefined();

    // hello.2's job, named in the index, and hello.1's, found by its ended operation.
    expect(await engine.erase('eve')).toMatchObject({ jobsRemoved: 2, jobsRunning: 0 });
    expect(await email.getJob(firstJobId)).toBeUndefined();
    expect((await keysSharingTag(ctx.redis, keys.state)).sort()).toEqual(
      [...firstEnded, keys.seqFloor].sort(),
    );
    expect(await ctx.redis.get(keys.seqFloor)).toBe('2');

    // Back a third time: hello.3.
    await engine.identify({ userId: 'eve', traits: { email: 'eve@example.com', firstName: 'Eve' } });
    await engine.track({ userId: 'eve', event: 'Hello' });
    await eventually(async () => smtp.waiting.length === 1, 20_000, "the third customer's email");
    smtp.waiting.shift()!();
    const view = await eventually(async () => {
      const customer = await engine.customer('eve');
      return customer.messages.some((message) => message.status === 'sent') ? customer : undefined;
    });
    expect(view.instances.map((instance) => instance.id)).toEqual(['hello.3']);
  }, 40_000);
});
