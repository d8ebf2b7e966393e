import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createEmailAdapter,
  recordDeliveryReport,
  verifyUnsubscribeToken,
  type Engine,
} from '../../engine/index.js';
import { MESSAGE_FOR, oneSendJourney } from '../support/channel-journeys.js';
import { deliveryEngine, TEST_MAIL_FROM } from '../support/delivery.js';
import { eventually, testRedis } from '../support/redis.js';
import { header, startSmtpSink, type SmtpSink } from '../support/smtp-sink.js';

const hello = oneSendJourney({
  id: 'hello',
  event: 'Hello',
  message: MESSAGE_FOR.email,
  channels: ['email'],
});

/**
 * The longest customer ids an email's headers can meet: 256 characters (the most a user id may
 * have) of a script whose every character is three UTF-8 bytes, nine characters once
 * percent-encoded in the operation id; and of control characters, six once escaped in JSON.
 */
const LONG_IDS = { cjk: '顧'.repeat(256), control: '\u0001'.repeat(256) };

describe('an email to a customer with a very long id', () => {
  let ctx: ReturnType<typeof testRedis>;
  let sink: SmtpSink;
  let engine: Engine;

  beforeAll(async () => {
    ctx = testRedis();
    sink = await startSmtpSink();
    engine = deliveryEngine(ctx, [hello], {
      adapters: { email: createEmailAdapter({ from: TEST_MAIL_FROM, smtpUrl: sink.url }) },
    });
    engine.startWorkers();
  });

  afterAll(async () => {
    await engine.close();
    await sink.close();
    await ctx.cleanup();
  });

  it.each(Object.entries(LONG_IDS))(
    'keeps every header line within 998 characters (%s), and its ids still lead back to the send',
    async (_name, userId) => {
      const email = `${_name}@example.com`;
      await engine.identify({ userId, traits: { email } });
      await engine.track({ userId, event: 'Hello' });
      const mail = await eventually(
        async () =>
          sink.received.find(
            (received) => received.to && 'text' in received.to && received.to.text === email,
          ),
        20_000,
        'the email',
      );

      // RFC 5322 2.1.1: a line is at most 998 characters, folded or not.
      const lines = mail.headerLines.flatMap(({ line }) => line.split(/\r?\n/));
      expect(lines.filter((line) => line.length > 998).map((line) => line.slice(0, 40))).toEqual([]);
      expect(mail.headerLines.map(({ key }) => key)).toEqual(
        expect.arrayContaining(['message-id', 'x-chorus-op', 'list-unsubscribe']),
      );

      // A provider's report names the send by X-Chorus-Op, or by the Message-ID's left part.
      const op = header(mail, 'x-chorus-op')!;
      expect(mail.messageId).toMatch(
        new RegExp(`^<${op.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\.[0-9a-z]+@chorus\\.test>$`),
      );
      const { messages } = await engine.customer(userId);
      expect(messages).toMatchObject([{ status: 'sent', channel: 'email' }]);
      expect(
        await recordDeliveryReport(ctx.redis, ctx.prefix, {
          customerId: userId,
          opId: op,
          status: 'delivered',
          at: Date.now(),
        }),
      ).toEqual({ recorded: 'first' });

      // The one-click unsubscribe link still names the customer.
      const url = new URL(/^<(.*)>$/.exec(header(mail, 'list-unsubscribe')!)![1]!);
      expect(
        verifyUnsubscribeToken('test-secret-of-sixteen', url.searchParams.get('token')!, Date.now()),
      ).toEqual({
        customerId: userId,
        topic: 'marketing',
      });
    },
  );
});
