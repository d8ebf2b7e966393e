import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEmailAdapter, type Engine } from '../../engine/index.js';
import { pingEmail } from '../fixtures/journeys-ping/ping.js';
import { deliveryEngine, TEST_MAIL_FROM } from '../support/delivery.js';
import { eventually, testRedis } from '../support/redis.js';
import { startSmtpSink, type SmtpSink } from '../support/smtp-sink.js';

/**
 * Mailbox providers (Gmail among them) drop a message whose Message-ID the mailbox already holds.
 * A customer erased and then back under the same user id (the id is often the email address)
 * enters the journey afresh, and their first sends have the operation ids of the erased ones.
 */
describe('the Message-ID of a customer who was erased and came back', () => {
  let ctx: ReturnType<typeof testRedis>;
  let sink: SmtpSink;
  let engine: Engine;

  beforeAll(async () => {
    ctx = testRedis();
    sink = await startSmtpSink();
    engine = deliveryEngine(ctx, [pingEmail], {
      adapters: { email: createEmailAdapter({ from: TEST_MAIL_FROM, smtpUrl: sink.url }) },
    });
    engine.startWorkers();
  });

  afterAll(async () => {
    await engine.close();
    await sink.close();
    await ctx.cleanup();
  });

  async function pingOnce(count: number) {
    await engine.identify({ userId: 'eve', traits: { email: 'eve@example.com', firstName: 'Eve' } });
    await engine.track({ userId: 'eve', event: 'Ping email' });
    await eventually(async () => sink.received.length === count, 20_000, `email ${count}`);
    const [entry] = (await engine.customer('eve')).messages;
    return entry!;
  }

  it('differs from the erased customer’s, so the new email is not dropped as a repeat', async () => {
    const before = await pingOnce(1);
    await eventually(async () => (await engine.erase('eve')) !== undefined);
    const after = await pingOnce(2);

    // The same operation, as far as the ids go: the journey's first entry, its first send.
    expect(after.opId).toBe(before.opId);
    const [first, second] = sink.received;
    expect(second!.messageId).not.toBe(first!.messageId);
    expect(second!.headers.get('x-chorus-op')).toBe(after.opId);
  });
});
