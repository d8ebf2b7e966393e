import type { Worker } from 'bullmq';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CoreMessageCatalog,
  createEmailAdapter,
  createEngine,
  createSmsAdapter,
  systemClock,
  type DeliveryPolicy,
  type PolicyDecision,
  type RedisConnection,
} from '../../engine/index.js';
import { startHttpServer, type Reply } from '../channels/support.js';
import { pingEmail, pingSms } from '../fixtures/journeys-ping/ping.js';
import { oneSendJourney } from '../support/channel-journeys.js';
import { InjectedFault, type FaultAt } from '../support/engine-on-fake-clock.js';
import { startTestDeliveryWorker } from '../support/delivery-worker.js';
import { eventually, testConnection, testRedis } from '../support/redis.js';
import { mulberry32 } from '../support/seeded-random.js';
import { startSmtpSink, type SmtpAnswer, type SmtpSink } from '../support/smtp-sink.js';

/**
 * Random sends through the real delivery workers, with providers that accept, ask to retry,
 * refuse or never answer, and with the workers' own Redis calls failing now and then, before or
 * after they land. Whatever happens, afterwards:
 * - every send has ended, with one entry in the customer's message list;
 * - an SMS (Twilio cannot recognise a repeat) reached the provider at most once;
 * - an email reached the server under one Message-ID, and was accepted at most twice (a repeat
 *   after a run lost the server's answer), and then it is marked `resent`;
 * - what the ledger says agrees with what the providers got: `sent` was accepted, and a message
 *   accepted is `sent` or `unknown`.
 *
 * MODEL_RUNS=<n> runs more, MODEL_SEED=<n> replays a run.
 */

const RUNS = Number(process.env.MODEL_RUNS ?? 4);
const SEED = process.env.MODEL_SEED === undefined ? undefined : Number(process.env.MODEL_SEED);

/** Makes some of `redis`'s commands fail, as `decide` says, before or after they run. */
function injectFaults(redis: RedisConnection, decide: () => FaultAt): void {
  const target = redis as unknown as { sendCommand: (command: unknown) => Promise<unknown> };
  const send = target.sendCommand.bind(redis);
  target.sendCommand = (command: unknown) => {
    const at = decide();
    if (at === 'before') {
      return Promise.reject(new InjectedFault('injected fault before the command'));
    }
    const result = send(command);
    if (at === 'after')
      return result.then(() => Promise.reject(new InjectedFault('injected fault after the command')));
    return result;
  };
}

/** Customers of the email and SMS pings; those of the fallback pings (SMS, else email) after them. */
/**
 * Whether an email's Message-ID is the operation's: `<op id>.<when the send was asked for, base
 * 36>@domain`, the same on every copy (an op id ends in digits, so its own dots cannot pass).
 */
const isOfOperation = (messageId: string | undefined, opId: string) =>
  messageId?.startsWith(`<${opId}.`) === true;

const CUSTOMERS = ['ada', 'bo', 'cy'];
const FALLBACK_CUSTOMERS = ['dee', 'eli'];
const ALL_CUSTOMERS = [...CUSTOMERS, ...FALLBACK_CUSTOMERS];
const phoneOf = (customerId: string) => `+1555010${ALL_CUSTOMERS.indexOf(customerId)}`;

/** SMS first; a customer without a phone gets it by email. */
const pingFallback = oneSendJourney({
  id: 'ping-fallback',
  event: 'Ping fallback',
  message: 'nudge',
  channels: ['sms', 'email'],
});

/**
 * A policy that mostly lets sends through and otherwise skips, reroutes or delays them briefly,
 * as caps, consent and quiet hours would; asked again on every fresh run, it may change its mind.
 */
function randomPolicy(random: () => number, rate: number): DeliveryPolicy {
  return {
    check: async ({ now }): Promise<PolicyDecision> => {
      const roll = random();
      if (roll >= rate) return { action: 'send' };
      if (roll < rate / 3) return { action: 'skip', reason: 'model skip' };
      if (roll < (2 * rate) / 3) return { action: 'reroute', reason: 'model reroute' };
      return { action: 'delay', untilMs: now + 50, reason: 'model delay' };
    },
  };
}

const smsReply: fc.Arbitrary<Reply> = fc.constantFrom<Reply>(
  { status: 201, body: JSON.stringify({ sid: 'SM1' }) },
  { status: 201, body: JSON.stringify({ sid: 'SM1' }) },
  { status: 503, body: '{}' },
  { status: 400, body: JSON.stringify({ code: 21211, message: 'invalid number' }) },
  'hang',
);
const smtpAnswer: fc.Arbitrary<SmtpAnswer> = fc.constantFrom<SmtpAnswer>(250, 250, 250, 451, 550, 'hold');

describe('delivery under provider answers and Redis faults, against its promises', () => {
  let sink: SmtpSink;

  beforeAll(async () => {
    sink = await startSmtpSink();
  });

  afterAll(async () => {
    await sink.close();
  });

  it('sends nothing twice that cannot be recognised, loses no send, and records what happened', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.record({
          // Email pings (customer index) and at most one SMS ping per customer.
          emails: fc.array(fc.nat({ max: CUSTOMERS.length - 1 }), { minLength: 1, maxLength: 6 }),
          sms: fc.subarray([0, 1, 2]),
          // At most one fallback ping per customer, who may have no phone.
          fallback: fc.subarray(FALLBACK_CUSTOMERS),
          phoneless: fc.subarray(FALLBACK_CUSTOMERS),
          policyRate: fc.constantFrom(0, 0.2),
          smtp: fc.array(smtpAnswer, { minLength: 12, maxLength: 12 }),
          twilio: fc.array(smsReply, { minLength: 8, maxLength: 8 }),
          faultRate: fc.constantFrom(0, 0.1, 0.25),
          faultSeed: fc.nat(),
          restart: fc.option(
            fc.record({
              channel: fc.constantFrom('email' as const, 'sms' as const),
              afterMs: fc.nat({ max: 400 }),
            }),
          ),
        }),
        async (plan) => {
          const ctx = testRedis();
          const faulty = testConnection();
          const twilio = await startHttpServer(...plan.twilio, {
            status: 201,
            body: JSON.stringify({ sid: 'SM9' }),
          });
          sink.reset();
          sink.answers = [...plan.smtp];
          const messages = CoreMessageCatalog.fromDirectory('templates');
          const journeys = [pingEmail, pingSms, pingFallback];
          const producer = createEngine({ redis: ctx.redis, prefix: ctx.prefix, journeys, messages });
          // The delivery workers' own calls go through a connection that fails now and then.
          const delivering = createEngine({ redis: faulty, prefix: ctx.prefix, journeys, messages });
          const random = mulberry32(plan.faultSeed);
          let faultsOn = false;
          injectFaults(faulty, () => {
            if (!faultsOn) return undefined;
            const roll = random();
            return roll < plan.faultRate / 2 ? 'before' : roll < plan.faultRate ? 'after' : undefined;
          });
          const workers: Worker[] = [];
          const closers: Array<() => Promise<void>> = [];
          try {
            producer.startWorkers({ deliveries: false });
            for (const id of ALL_CUSTOMERS)
              await producer.identify({
                userId: id,
                traits: {
                  email: `${id}@example.com`,
                  ...(plan.phoneless.includes(id) ? {} : { phone: phoneOf(id) }),
                },
              });
            const policy = randomPolicy(mulberry32(plan.faultSeed + 1), plan.policyRate);
            const adapters = {
              email: createEmailAdapter({
                from: 'Chorus Tea <hello@chorus.test>',
                smtpUrl: sink.url,
                timeoutMs: 300,
                maxConnections: 2,
              }),
              sms: createSmsAdapter({
                baseUrl: twilio.url,
                accountSid: 'AC1',
                authToken: 't',
                from: '+15550199',
                timeoutMs: 300,
              }),
            };
            closers.push(async () => adapters.email.close?.());
            const start = (channel: 'email' | 'sms') => {
              const worker = startTestDeliveryWorker(delivering, ctx.redis, channel, {
                adapters,
                clock: systemClock,
                policy,
                options: { claimStaleMs: 1_000 },
              });
              workers.push(worker);
              return worker;
            };
            const running = { email: start('email'), sms: start('sms') };
            faultsOn = true;
            await Promise.all([
              ...plan.emails.map((i) => producer.track({ userId: CUSTOMERS[i]!, event: 'Ping email' })),
              ...plan.sms.map((i) => producer.track({ userId: CUSTOMERS[i]!, event: 'Ping sms' })),
              ...plan.fallback.map((id) => producer.track({ userId: id, event: 'Ping fallback' })),
            ]);
            if (plan.restart !== null) {
              // A worker that stops without waiting for its runs (as one whose process is
              // killed, except that the runs go on): its jobs are taken up by another once their
              // locks lapse, with the old runs possibly still at their provider.
              await new Promise((resolve) => setTimeout(resolve, plan.restart!.afterMs));
              await running[plan.restart.channel].close(true);
              running[plan.restart.channel] = start(plan.restart.channel);
            }
            const sends = plan.emails.length + plan.sms.length + plan.fallback.length;
            /** Requests to `phone` the provider took, or may have: answered 201, or left hanging. */
            const smsTaken = (phone: string) =>
              twilio.requests.filter((request, n) => {
                const reply = plan.twilio[n] ?? { status: 201 };
                const to = new URLSearchParams(request.body.toString()).get('To');
                return to === phone && (reply === 'hang' || reply.status === 201);
              }).length;

            // Every send job handed to delivery has ended.
            const shard = producer.queues.shards[0]!;
            const queues = [shard.deliveries.email, shard.deliveries.sms];
            const jobs = await eventually(
              async () => {
                const counts = await Promise.all(
                  queues.map((q) => q.getJobCounts('waiting', 'active', 'delayed', 'completed', 'failed')),
                );
                const open = counts.reduce((n, c) => n + c.waiting! + c.active! + c.delayed!, 0);
                const ended = counts.reduce((n, c) => n + c.completed! + c.failed!, 0);
                if (open > 0 || ended < sends) return undefined;
                return (await Promise.all(queues.map((q) => q.getJobs(['completed', 'failed'])))).flat();
              },
              60_000,
              'every send to end',
            );
            faultsOn = false;
            const ops = new Map(
              jobs.map((job) => [job.data.opId as string, job.data as { customerId: string }]),
            );
            expect(ops.size).toBe(sends);

            const outcomes = ['sent', 'failed', 'unknown', 'skipped'];
            for (const [opId, { customerId }] of ops) {
              const keys = producer.store.keys(customerId);
              const state = await ctx.redis.hget(keys.op(opId), 'state');
              const entries = (await producer.customer(customerId)).messages.filter((m) => m.opId === opId);
              const what = `op ${opId}: state ${state}, entries ${JSON.stringify(entries)}`;
              expect(outcomes, what).toContain(state);
              // One outcome listed (beside the channels that handed it on, and the delays).
              const ended = entries.filter((m) => outcomes.includes(m.status as string));
              expect(ended, what).toHaveLength(1);
              const emails = sink.received.filter((mail) => isOfOperation(mail.messageId, opId)).length;
              // Each phone is sent to by one operation at most (see the plan).
              const texts = opId.includes('ping-email') ? 0 : smsTaken(phoneOf(customerId));
              expect(emails, what).toBeLessThanOrEqual(2);
              if (emails === 2) expect(ended[0], what).toMatchObject({ resent: true });
              expect(texts, what).toBeLessThanOrEqual(1);
              // A fallback hands a send on only when it cannot have gone out: never both.
              expect(emails > 0 && texts > 0, what).toBe(false);
              if (state === 'sent') expect(emails + texts, what).toBeGreaterThan(0);
              if (emails + texts > 0) expect(['sent', 'unknown'], what).toContain(state);
            }
            // Every email offered carried the Message-ID of its operation, whichever run sent it.
            for (const mail of sink.attempts)
              expect(
                [...ops.keys()].some((opId) => isOfOperation(mail.messageId, opId)),
                mail.messageId,
              ).toBe(true);
          } finally {
            faultsOn = false;
            // Not forced: every send has ended by now, and a forced close would leave a run that
            // is still writing to write after the cleanup below.
            await Promise.all(workers.map((w) => w.close()));
            await Promise.all(closers.map((close) => close()));
            await producer.close();
            await delivering.close();
            await twilio.close();
            faulty.disconnect();
            await ctx.cleanup();
          }
        },
      ),
      { numRuns: RUNS, ...(SEED === undefined ? {} : { seed: SEED }), endOnFailure: true },
    );
  }, 600_000);
});
