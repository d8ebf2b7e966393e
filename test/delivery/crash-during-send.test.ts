import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CoreMessageCatalog, createEngine, type Engine } from '../../engine/index.js';
import { startHttpServer } from '../channels/support.js';
import { pingEmail, pingSms } from '../fixtures/journeys-ping/ping.js';
import { eventually, TEST_REDIS_ENV, testRedis } from '../support/redis.js';
import { startSmtpSink, type SmtpSink } from '../support/smtp-sink.js';
import { exited, startWorkerProcess } from '../support/worker-process.js';

describe('a worker process killed with SIGKILL while a send is in flight', () => {
  let ctx: ReturnType<typeof testRedis>;
  let producer: Engine;
  let sink: SmtpSink;
  let twilio: Awaited<ReturnType<typeof startHttpServer>>;
  let worker: ChildProcess | undefined;
  const outboxDir = mkdtempSync(join(tmpdir(), 'chorus-crash-send-'));

  beforeAll(async () => {
    ctx = testRedis();
    sink = await startSmtpSink();
    // The first message to each provider is held: the worker is mid-send when it is killed.
    sink.answers = ['hold'];
    twilio = await startHttpServer('hang', { status: 201, body: JSON.stringify({ sid: 'SM2' }) });
    producer = createEngine({
      redis: ctx.redis,
      prefix: ctx.prefix,
      journeys: [pingSms, pingEmail],
      messages: CoreMessageCatalog.fromDirectory('templates'),
    });
  });

  afterAll(async () => {
    if (worker && worker.exitCode === null && worker.signalCode === null) {
      worker.kill('SIGKILL');
      await exited(worker);
    }
    await producer.close();
    await twilio.close();
    await sink.close();
    await ctx.cleanup();
    rmSync(outboxDir, { recursive: true, force: true });
  });

  const env = () => ({
    ...TEST_REDIS_ENV,
    REDIS_PREFIX: ctx.prefix,
    JOURNEYS_DIR: 'test/fixtures/journeys-ping',
    TEMPLATES_DIR: 'templates',
    OUTBOX_DIR: outboxDir,
    UNSUBSCRIBE_SECRET: 'test-secret-of-sixteen',
    SMTP_URL: sink.url,
    TWILIO_BASE_URL: twilio.url,
    TWILIO_ACCOUNT_SID: 'AC1',
    TWILIO_AUTH_TOKEN: 'token',
    SMS_FROM: '+15550199',
    // A dead worker's jobs run again after about a second; its claims go stale after four.
    LOCK_DURATION_MS: '1000',
    LOG_LEVEL: 'error',
  });

  it('delivers an email once by its Message-ID, and records an SMS as unknown without sending it twice', async () => {
    await producer.identify({ userId: 'eve', traits: { email: 'eve@example.com', firstName: 'Eve' } });
    await producer.identify({
      userId: 'sam',
      traits: { phone: '+15550100', firstName: 'Sam', consent: { sms: { marketing: true } } },
    });
    worker = startWorkerProcess(env());
    await producer.track({ userId: 'eve', event: 'Ping email' });
    await producer.track({ userId: 'sam', event: 'Ping sms' });
    await eventually(
      async () => sink.attempts.length === 1 && twilio.requests.length === 1,
      30_000,
      'both sends to be in flight',
    );
    worker.kill('SIGKILL');
    await exited(worker);
    worker = startWorkerProcess(env());

    const [email] = await eventually(
      async () => {
        const { messages } = await producer.customer('eve');
        return messages.length > 0 ? messages : undefined;
      },
      30_000,
      'the email to be recorded',
    );
    expect(email).toMatchObject({ channel: 'email', status: 'sent', resent: true });
    // Offered twice (once to the killed worker's connection), accepted once, one Message-ID.
    expect(sink.attempts).toHaveLength(2);
    expect(sink.received).toHaveLength(1);
    expect(new Set(sink.attempts.map((mail) => mail.messageId)).size).toBe(1);

    const [sms] = await eventually(
      async () => {
        const { messages } = await producer.customer('sam');
        return messages.length > 0 ? messages : undefined;
      },
      30_000,
      'the SMS to be recorded',
    );
    expect(sms).toMatchObject({
      channel: 'sms',
      status: 'unknown',
      reason: expect.stringContaining('not sent again'),
    });
    expect(twilio.requests).toHaveLength(1);
  }, 60_000);
});
