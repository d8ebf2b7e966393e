import { readdirSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  createEmailAdapter,
  createOutboxAdapter,
  sendOpId,
  type ChannelAdapter,
  type Engine,
} from '../../engine/index.js';
import { outboxFileName } from '../../engine/channels/outbox-file.js';
import { deliveryFor } from '../channels/support.js';
import { oneSendJourney } from '../support/channel-journeys.js';
import { deliveryEngine, TEST_MAIL_FROM, testDelivery } from '../support/delivery.js';
import { onboardingEngine } from '../support/engine.js';
import { eventually, testRedis } from '../support/redis.js';

const hello = oneSendJourney({ id: 'hello', event: 'Hello', message: 'welcome', channels: ['email'] });

describe('erasing a customer whose messages went to the development outbox', () => {
  let ctx: ReturnType<typeof testRedis>;
  let outbox: ReturnType<typeof testDelivery>;
  let engine: Engine;

  beforeEach(() => {
    ctx = testRedis();
    outbox = testDelivery(ctx.redis, ctx.prefix);
    engine = onboardingEngine(ctx, outbox);
    engine.startWorkers();
  });
  afterEach(async () => {
    await engine.close();
    outbox.cleanup();
    await ctx.cleanup();
  });

  const files = (folder: string) => {
    try {
      return readdirSync(join(outbox.outboxDir, folder)).sort();
    } catch {
      return [];
    }
  };

  async function signUp(userId: string) {
    await engine.identify({ userId, traits: { firstName: 'Ada', email: 'ada@example.com' } });
    await engine.track({ userId, event: 'Signed Up', properties: { plan: 'pro' } });
    await eventually(async () => (await engine.customer(userId)).messages.some((m) => m.status === 'sent'));
  }

  it("deletes the .eml files of their emails, and no other customer's", async () => {
    // "ada" and "ada-b": one customer's ids must not be taken for the start of another's.
    await signUp('ada');
    await signUp('ada-b');
    expect(files('email')).toHaveLength(2);

    const erased = await engine.erase('ada');
    expect(erased.outboxFiles).toBe(1);
    const left = files('email');
    expect(left).toHaveLength(1);
    expect(left[0]).toMatch(/^s-ada%2Db-/);
  });

  it('deletes SMS and push files too, also those of a customer id too long to keep in a file name', async () => {
    const long = `${'ü'.repeat(30)}@example.com`;
    const sms = createOutboxAdapter({ channel: 'sms', outboxDir: outbox.outboxDir });
    const delivery = (customerId: string) => ({
      opId: sendOpId(customerId, 'onboarding.1', 1, 0),
      channel: 'sms' as const,
      customerId,
      journeyId: 'onboarding',
      journeyVersion: 1,
      message: 'welcome',
      variant: 'control',
      address: { phone: '+15550100' },
      rendered: { text: 'Hello' },
    });
    for (const customerId of [long, `${'ü'.repeat(30)}@example.org`, 'ada'])
      await sms.send(delivery(customerId) as Parameters<typeof sms.send>[0]);
    // A temporary file of a process that died mid-write.
    mkdirSync(join(outbox.outboxDir, 'push'), { recursive: true });
    writeFileSync(
      join(outbox.outboxDir, 'push', `.${outboxFileName(delivery('ada').opId, 'json')}.x.tmp`),
      '{',
    );
    expect(files('sms')).toHaveLength(3);
    // The first two share the kept start of their names; their content tells them apart.
    expect(new Set(files('sms').map((name) => name.slice(0, 160))).size).toBe(2);

    expect(await sms.eraseCustomer!(long)).toBe(1);
    expect(files('sms')).toHaveLength(2);
    // An email's header names so long an operation by its hash only; its name's start tells.
    const email = createEmailAdapter({ from: TEST_MAIL_FROM, outboxDir: outbox.outboxDir });
    for (const customerId of [long, 'ada'])
      await email.send(
        deliveryFor('email', { customerId, opId: sendOpId(customerId, 'onboarding.1', 1, 0) }),
      );
    expect(await email.eraseCustomer!(long)).toBe(1);
    expect(files('email')).toEqual([outboxFileName(sendOpId('ada', 'onboarding.1', 1, 0), 'eml')]);
    await engine.identify({ userId: 'ada', traits: { phone: '+15550100' } });
    await engine.settleIngest();
    expect((await engine.erase('ada')).outboxFiles).toBe(3);
    expect(files('sms')).toHaveLength(1);
    expect(files('push')).toEqual([]);
  });

  it('deletes the file of a send that was being written while the erasure ran', async () => {
    await engine.close();
    const email = createEmailAdapter({ from: TEST_MAIL_FROM, outboxDir: outbox.outboxDir });
    let writing: (() => void) | undefined;
    const held: ChannelAdapter = {
      ...email,
      async send(delivery) {
        await new Promise<void>((resolve) => (writing = resolve));
        return email.send(delivery);
      },
    };
    engine = deliveryEngine(ctx, [hello], { adapters: { email: held } });
    engine.startWorkers();
    await engine.identify({ userId: 'eve', traits: { email: 'eve@example.com' } });
    await engine.track({ userId: 'eve', event: 'Hello' });
    await eventually(async () => writing !== undefined, 20_000, 'the email to be with the adapter');

    expect(await engine.erase('eve')).toMatchObject({ jobsRunning: 1, outboxFiles: 0 });
    writing!();
    const queue = engine.queues.forCustomer('eve').deliveries.email;
    await eventually(async () => (await queue.getCompleted()).length === 1, 20_000, 'the send to end');
    expect(files('email')).toEqual([]);
  });
});
