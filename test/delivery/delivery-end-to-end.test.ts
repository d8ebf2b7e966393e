import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  createEmailAdapter,
  createInAppAdapter,
  createOutboxAdapter,
  type DeliveryPolicy,
  type Engine,
  type PolicyDecision,
  type PolicyInput,
} from '../../engine/index.js';
import { notify } from '../fixtures/journeys/notify.js';
import { deliveryEngine, TEST_MAIL_FROM } from '../support/delivery.js';
import { eventually, testRedis } from '../support/redis.js';
import { header, startSmtpSink, type SmtpSink } from '../support/smtp-sink.js';

describe('delivery end to end: journey, queue per channel, renderer, SMTP', () => {
  let sink: SmtpSink;
  let ctx: ReturnType<typeof testRedis>;
  let engine: Engine;
  let outboxDir: string;
  let decide: () => PolicyDecision = () => ({ action: 'send' });
  let policyInputs: PolicyInput[] = [];
  const policy: DeliveryPolicy = {
    check: async (input) => {
      policyInputs.push(input);
      return decide();
    },
  };

  beforeAll(async () => {
    sink = await startSmtpSink();
  });

  afterAll(() => sink.close());

  beforeEach(() => {
    ctx = testRedis();
    outboxDir = mkdtempSync(join(tmpdir(), 'chorus-delivery-'));
    engine = deliveryEngine(ctx, [notify], {
      adapters: {
        email: createEmailAdapter({ from: TEST_MAIL_FROM, smtpUrl: sink.url }),
        sms: createOutboxAdapter({ channel: 'sms', outboxDir }),
        'in-app': createInAppAdapter({ redis: ctx.redis, prefix: ctx.prefix }),
      },
      policy,
    });
    engine.startWorkers();
  });

  afterEach(async () => {
    await engine.close();
    await ctx.cleanup();
    rmSync(outboxDir, { recursive: true, force: true });
    sink.reset();
    decide = () => ({ action: 'send' });
    policyInputs = [];
  });

  async function messagesOf(userId: string, count: number) {
    return eventually(async () => {
      const { messages } = await engine.customer(userId);
      return messages.length >= count &&
        messages.every((m) => m.status !== 'rerouted' || messages.length > count - 1)
        ? messages
        : undefined;
    });
  }

  it('sends a personalised email with its text part, unsubscribe and Chorus headers', async () => {
    await engine.identify({ userId: 'ada', traits: { email: 'ada@example.com', firstName: 'Ada' } });
    await engine.track({ userId: 'ada', event: 'Notify' });
    const [entry] = await messagesOf('ada', 1);
    expect(entry).toMatchObject({
      message: 'nudge',
      channel: 'email',
      status: 'sent',
      provider: 'smtp',
      journeyId: 'notify',
    });
    expect(sink.received).toHaveLength(1);
    const mail = sink.received[0]!;
    expect(mail.to && !Array.isArray(mail.to) ? mail.to.text : '').toContain('ada@example.com');
    expect(mail.html).toContain('Ada');
    expect(mail.text).toContain('utm_medium=email');
    expect(header(mail, 'x-chorus-journey')).toBe('notify');
    expect(header(mail, 'x-chorus-message')).toBe('nudge');
    expect(header(mail, 'x-chorus-variant')).toBe('control');
    expect(header(mail, 'list-unsubscribe')).toMatch(
      /^<https:\/\/chorus\.test\/v1\/unsubscribe\?token=[^>]+>$/,
    );
    expect(header(mail, 'list-unsubscribe-post')).toBe('List-Unsubscribe=One-Click');
  });

  it('renders in the default locale and zone when the traits name none that exists, as waits and quiet hours do', async () => {
    await engine.close();
    engine = deliveryEngine(ctx, [notify], {
      adapters: { email: createEmailAdapter({ from: TEST_MAIL_FROM, smtpUrl: sink.url }) },
      policy,
      defaults: { locale: 'de-DE', timezone: 'Asia/Shanghai' },
    });
    engine.startWorkers();
    // A CRM's spellings: a language's name and a Windows zone name, neither of which Intl reads.
    await engine.identify({
      userId: 'lena',
      traits: { email: 'lena@example.com', locale: 'German (Germany)', timezone: 'China Standard Time' },
    });
    await engine.track({ userId: 'lena', event: 'Notify' });
    await messagesOf('lena', 1);
    expect(sink.received[0]?.html).toContain('<html lang="de-DE" dir="ltr">');
  });

  it('retries a transient 4xx and delivers exactly once', async () => {
    sink.answers = [451];
    await engine.identify({ userId: 'grey', traits: { email: 'grey@example.com' } });
    await engine.track({ userId: 'grey', event: 'Notify' });
    const messages = await messagesOf('grey', 1);
    expect(messages.map((m) => m.status)).toEqual(['sent']);
    expect(sink.attempts).toHaveLength(2);
    expect(sink.received).toHaveLength(1);
  });

  it('fails a permanent 5xx at once, without retrying, and says why', async () => {
    sink.answers = [550];
    await engine.identify({ userId: 'gone', traits: { email: 'gone@example.com' } });
    await engine.track({ userId: 'gone', event: 'Notify' });
    const [entry] = await messagesOf('gone', 1);
    expect(entry).toMatchObject({ status: 'failed', reason: expect.stringContaining('Mailbox unavailable') });
    await eventually(async () => (await engine.queues.deliveries.email.getFailedCount()) === 1);
    expect(sink.attempts).toHaveLength(1);
  });

  it('falls back to the next channel when the customer has no email address', async () => {
    await engine.identify({ userId: 'sms-only', traits: { phone: '+15550100', firstName: 'Bo' } });
    await engine.track({ userId: 'sms-only', event: 'Notify' });
    const messages = await eventually(async () => {
      const list = (await engine.customer('sms-only')).messages;
      return list.some((m) => m.status === 'sent') ? list : undefined;
    });
    expect(messages.map((m) => [m.channel, m.status])).toEqual([
      ['sms', 'sent'],
      ['email', 'rerouted'],
    ]);
    const [file] = readdirSync(join(outboxDir, 'sms'));
    const sms = JSON.parse(readFileSync(join(outboxDir, 'sms', file!), 'utf8')) as {
      rendered: { body: string };
    };
    expect(sms.rendered.body).toContain('Bo');
  });

  it('records why nothing was sent when no channel reaches the customer', async () => {
    await engine.track({ userId: 'nobody', event: 'Notify' });
    const messages = await eventually(async () => {
      const list = (await engine.customer('nobody')).messages;
      return list.some((m) => m.status === 'skipped') ? list : undefined;
    });
    expect(messages[0]).toMatchObject({
      status: 'skipped',
      reason: expect.stringContaining('no sms address'),
    });
    expect(sink.attempts).toHaveLength(0);
  });

  it('asks the policy hook at send time and honours a skip', async () => {
    decide = () => ({ action: 'skip', reason: 'unsubscribed from marketing' });
    await engine.identify({ userId: 'quiet', traits: { email: 'quiet@example.com' } });
    await engine.track({ userId: 'quiet', event: 'Notify' });
    const [entry] = await messagesOf('quiet', 1);
    expect(entry).toMatchObject({ status: 'skipped', reason: 'unsubscribed from marketing' });
    expect(sink.attempts).toHaveLength(0);
  });

  it('shows a delayed send on the customer with its rule, then sends it; the policy sees topic, message and address', async () => {
    const seen: PolicyInput[] = [];
    let held = false;
    policyInputs = seen;
    decide = () => {
      if (held) return { action: 'send' };
      held = true;
      return {
        action: 'delay',
        untilMs: Date.now() + 50,
        reason: 'quiet hours until 08:00',
        rule: 'quiet-hours',
      };
    };
    await engine.identify({ userId: 'night', traits: { email: 'night@example.com' } });
    await engine.track({ userId: 'night', event: 'Notify' });
    const messages = await eventually(async () => {
      const list = (await engine.customer('night')).messages;
      return list.some((m) => m.status === 'sent') ? list : undefined;
    });
    expect(messages.map((m) => m.status)).toEqual(['sent', 'delayed']);
    expect(messages[1]).toMatchObject({
      channel: 'email',
      rule: 'quiet-hours',
      reason: 'quiet hours until 08:00',
      until: expect.any(Number),
    });
    expect(sink.received).toHaveLength(1);
    expect(seen[0]).toMatchObject({
      channel: 'email',
      topic: 'marketing',
      message: { id: 'nudge' },
      address: { email: 'night@example.com' },
    });
    expect(await ctx.redis.hgetall(`${ctx.prefix}:stats:policy`)).toEqual({ 'email|delay|quiet-hours': '1' });
  });
});
