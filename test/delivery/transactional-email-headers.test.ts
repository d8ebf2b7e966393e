import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEmailAdapter, loadTemplates, type Engine } from '../../engine/index.js';
import { MESSAGE_FOR, oneSendJourney } from '../support/channel-journeys.js';
import { deliveryEngine, TEST_MAIL_FROM } from '../support/delivery.js';
import { eventually, testRedis } from '../support/redis.js';
import { header, startSmtpSink, type SmtpSink } from '../support/smtp-sink.js';

const receipt = oneSendJourney({
  id: 'receipt',
  event: 'Ordered',
  message: MESSAGE_FOR.email,
  channels: ['email'],
});

describe('a transactional email', () => {
  let ctx: ReturnType<typeof testRedis>;
  let sink: SmtpSink;
  let engine: Engine;

  beforeAll(async () => {
    ctx = testRedis();
    sink = await startSmtpSink();
    const templates = loadTemplates('templates', { journeys: [receipt] });
    engine = deliveryEngine(ctx, [receipt], {
      adapters: { email: createEmailAdapter({ from: TEST_MAIL_FROM, smtpUrl: sink.url }) },
      // The project's message, declared `"topic": "transactional"` as a receipt's would be.
      messages: {
        get: (id) => {
          const core = templates.message(id);
          return core && { ...core, topic: 'transactional' };
        },
      },
    });
    engine.startWorkers();
  });

  afterAll(async () => {
    await engine.close();
    await sink.close();
    await ctx.cleanup();
  });

  it('carries no List-Unsubscribe nor one-click header, which would offer to unsubscribe from a receipt', async () => {
    await engine.identify({ userId: 'buyer', traits: { email: 'buyer@example.com' } });
    await engine.track({ userId: 'buyer', event: 'Ordered' });
    const mail = await eventually(async () => sink.received[0], 20_000, 'the receipt');

    expect(header(mail, 'x-chorus-journey')).toBe('receipt');
    expect(header(mail, 'list-unsubscribe')).toBeUndefined();
    expect(header(mail, 'list-unsubscribe-post')).toBeUndefined();
  });
});
