import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CoreMessageCatalog, createEngine, type Engine } from '../../engine/index.js';
import { counter } from '../fixtures/journeys/counter.js';
import { eventually, TEST_REDIS_ENV, testRedis } from '../support/redis.js';
import { exited, startWorkerProcess } from '../support/worker-process.js';

const CUSTOMERS = 300;
const STEPS = 5;

describe('a worker process killed with SIGKILL mid-run', () => {
  let ctx: ReturnType<typeof testRedis>;
  let producer: Engine;
  let worker: ChildProcess | undefined;
  const outboxDir = mkdtempSync(join(tmpdir(), 'chorus-crash-outbox-'));
  const env = () => ({
    ...TEST_REDIS_ENV,
    REDIS_PREFIX: ctx.prefix,
    JOURNEYS_DIR: 'test/fixtures/journeys',
    TEMPLATES_DIR: 'templates',
    // A dead worker's jobs are picked up after about 2 s instead of 30 s.
    LOCK_DURATION_MS: '2000',
    JOURNEY_CONCURRENCY: '50',
    OUTBOX_DIR: outboxDir,
  });

  beforeAll(() => {
    ctx = testRedis();
    producer = createEngine({
      redis: ctx.redis,
      prefix: ctx.prefix,
      journeys: [counter],
      messages: CoreMessageCatalog.fromDirectory('templates'),
    });
  });

  afterAll(async () => {
    if (worker && worker.exitCode === null) {
      worker.kill('SIGKILL');
      await exited(worker);
    }
    await producer.close();
    await ctx.cleanup();
    rmSync(outboxDir, { recursive: true, force: true });
  });

  it('loses no event and executes no operation twice once restarted', async () => {
    const ids = Array.from({ length: CUSTOMERS }, (_, i) => `crash-${i}`);
    worker = startWorkerProcess(env());
    let startedAt = Date.now();
    const send = (name: string, properties: (id: string) => Record<string, unknown> = () => ({})) =>
      Promise.all(ids.map((id) => producer.track({ userId: id, event: name, properties: properties(id) })));

    // Kill the worker four times while it is busy applying events, restarting it each time.
    const rounds: Array<() => Promise<unknown>> = [
      () =>
        Promise.all(
          ids.map((id) => producer.identify({ userId: id, traits: { email: `${id}@example.com` } })),
        ),
      () => send('Start'),
    ];
    for (let n = 1; n <= STEPS; n++) rounds.push(() => send('Step', () => ({ n })));
    rounds.push(() => send('Finish'));
    let kills = 0;
    const orphaned: number[] = [];
    for (const [index, round] of rounds.entries()) {
      await round();
      if (index % 2 === 1) {
        // Jobs this process took and has not finished: killing now lands mid-job.
        const inFlight = await eventually(
          async () => {
            const mine = (await producer.queues.journeys.getActive()).filter(
              (job) => (job.processedOn ?? 0) >= startedAt,
            );
            return mine.length > 0 ? mine : undefined;
          },
          30_000,
          'the worker to be busy',
        );
        worker.kill('SIGKILL');
        await exited(worker);
        orphaned.push(inFlight.length);
        kills++;
        worker = startWorkerProcess(env());
        startedAt = Date.now();
      }
    }
    expect(kills).toBe(4);
    expect(orphaned.every((count) => count > 0)).toBe(true);

    // Every customer finishes: all steps applied once and in order (else `outOfOrder`), the
    // one-second timer fired from Redis, and each message recorded exactly once.
    for (const id of ids) {
      const customer = await eventually(
        async () => {
          const c = await producer.customer(id);
          return c.instances[0]?.status === 'done' && c.messages.length >= 2 ? c : undefined;
        },
        60_000,
        `customer ${id} to finish`,
      );
      expect(customer.instances[0]).toMatchObject({
        exitReason: 'done',
        context: { data: { count: STEPS } },
      });
      expect(customer.messages.map((m) => [m.message, m.status]).sort()).toEqual([
        ['thank-you', 'sent'],
        ['welcome', 'sent'],
      ]);
      expect(customer.deadLetters).toEqual([]);
    }
    // One .eml per operation: 300 welcomes and 300 thank-yous, each written under its op id.
    expect(readdirSync(join(outboxDir, 'email')).filter((f) => f.endsWith('.eml'))).toHaveLength(
      2 * CUSTOMERS,
    );
  }, 120_000);

  it('stops on SIGTERM within the shutdown deadline, with exit code 0', async () => {
    worker ??= startWorkerProcess(env());
    await producer.track({ userId: 'term', event: 'Start' });
    await eventually(
      async () => ((await producer.customer('term')).messages.length === 1 ? true : undefined),
      30_000,
    );
    const started = Date.now();
    worker.kill('SIGTERM');
    expect(await exited(worker)).toEqual({ code: 0, signal: null });
    expect(Date.now() - started).toBeLessThan(10_000);
  }, 60_000);
});
