import { UnrecoverableError, Worker } from 'bullmq';
import { describe, expect, it } from 'vitest';
import { silentLogger } from '../../engine/index.js';
import { scanUntil, type ScanPosition } from '../../engine/redis/scan-keys.js';
import { inboxScanKey, sweepStrandedInboxes } from '../../engine/runtime/inbox-sweeper.js';
import { engineEachTest } from '../support/engine.js';
import { eventually } from '../support/redis.js';

/** Runs `step` until it says its pass is complete; returns how many calls that took. */
async function untilComplete(step: () => Promise<boolean>): Promise<number> {
  for (let calls = 1; calls <= 100_000; calls++) if (await step()) return calls;
  throw new Error('the scan never completed its pass');
}

describe('the scan for stranded inboxes, bounded in time', () => {
  const h = engineEachTest();

  it('stops at its deadline and goes on from where it stopped until it has seen every key, once a pass', async () => {
    // Each in its own hash tag: on a Redis Cluster they spread over every master.
    const keys = Array.from({ length: 40 }, (_, i) => `${h.ctx.prefix}:scan:{k${i}}`);
    for (const key of keys) await h.ctx.redis.set(key, '1');
    let position: ScanPosition = {};
    const seen = new Set<string>();
    // A clock always past the deadline: every call makes exactly one SCAN.
    const oneScanAtATime = async () => {
      const scan = await scanUntil(
        h.ctx.redis,
        `${h.ctx.prefix}:scan:*`,
        { from: position, deadline: 0, now: () => 1, count: 2 },
        (found) => found.forEach((key) => seen.add(key)),
      );
      position = scan.position;
      return scan.complete;
    };
    const calls = await untilComplete(oneScanAtATime);
    expect([...seen].sort()).toEqual([...keys].sort());
    expect(calls).toBeGreaterThan(1);
    expect(Object.values(position).every((cursor) => cursor === 'done')).toBe(true);

    // The next call starts a new pass from the beginning.
    seen.clear();
    await untilComplete(oneScanAtATime);
    expect(seen.size).toBe(keys.length);
  });

  it('finds an inbox nobody drains across sweeps of a zero budget, remembering its place in Redis', async () => {
    const customerId = 'stranded-ada';
    // Only the first half of ingest: the event is in the inbox, but no job will drain it.
    await h.engine.store.push(
      {
        v: 1,
        kind: 'track',
        id: 'lost-1',
        customerId,
        name: 'Signed Up',
        properties: {},
        timestamp: Date.now(),
      },
      { clientId: true, recent: true },
    );
    let rescued = 0;
    let round = 0;
    await untilComplete(async () => {
      const result = await sweepStrandedInboxes({
        redis: h.ctx.redis,
        prefix: h.ctx.prefix,
        queues: h.engine.queues,
        logger: silentLogger,
        round: `sweep-${++round}`,
        budgetMs: 0,
      });
      rescued += result.rescued;
      return result.passComplete;
    });
    expect(rescued).toBe(1);
    expect(await h.ctx.redis.get(inboxScanKey(h.ctx.prefix))).not.toBeNull();
    const drains = await h.engine.queues.journeys.getJobs(['waiting']);
    expect(drains.map((job) => [job.name, job.data])).toEqual([['drain', { v: 1, customerId }]]);
  });
});

describe('the scan for stranded inboxes, among keys a client named', () => {
  const h = engineEachTest();

  it('is not thrown off by a messageId that makes its seen-marker look like an inbox', async () => {
    // A client's messageId ends up in the name of its seen-marker, a string key under the
    // customer's prefix: `<prefix>:c:{ada}:seen:<messageId>`. These ids make that key match the
    // sweep's pattern, one with a token that is not percent-encoding, one with one that is.
    for (const messageId of ['x:c:{%zz}:inbox', 'y:c:{bo}:inbox'])
      await h.engine.store.push(
        {
          v: 1,
          kind: 'identify',
          id: messageId,
          customerId: 'ada',
          traits: {},
          timestamp: Date.now(),
        },
        { clientId: true, recent: false },
      );
    const sweep = (round: string) =>
      sweepStrandedInboxes({
        redis: h.ctx.redis,
        prefix: h.ctx.prefix,
        queues: h.engine.queues,
        logger: silentLogger,
        round,
        budgetMs: 60_000,
      });
    // Ada's own inbox is stranded (no drain job was added): found, and nothing else is.
    await expect(sweep('sweep-1')).resolves.toEqual({ rescued: 1, passComplete: true });
    const drains = await h.engine.queues.journeys.getJobs(['waiting']);
    expect(drains.map((job) => job.data)).toEqual([{ v: 1, customerId: 'ada' }]);
  });
});

describe('the scan for stranded inboxes, while the workers are behind', () => {
  const h = engineEachTest();
  const sweep = (round: string) =>
    sweepStrandedInboxes({
      redis: h.ctx.redis,
      prefix: h.ctx.prefix,
      queues: h.engine.queues,
      logger: silentLogger,
      round,
      budgetMs: 60_000,
    });

  it("adds no job for an inbox whose event's drain job is waiting its turn", async () => {
    // No worker runs: every event's drain job waits, as behind a backlog.
    for (const customerId of ['ada', 'bo', 'cy'])
      await h.engine.track({ userId: customerId, event: 'Signed Up', properties: {} });
    await h.engine.settleIngest();
    for (const round of ['sweep-1', 'sweep-2'])
      await expect(sweep(round)).resolves.toEqual({ rescued: 0, passComplete: true });
    expect(await h.engine.queues.journeys.getJobCounts('waiting')).toEqual({ waiting: 3 });
  });

  it('rescues an inbox whose drain job failed for good, failed and waits to retry, or ended without draining it', async () => {
    const journeys = h.engine.queues.journeys;
    for (const customerId of ['ada', 'bo', 'cy'])
      await h.engine.track({ userId: customerId, event: 'Signed Up', properties: {} });
    await h.engine.settleIngest();
    const jobOf = new Map((await journeys.getJobs(['waiting'])).map((job) => [job.data.customerId, job]));
    // Ada's gave up; Bo's completed (and was removed) with his event still there; Cy's failed and
    // waits out its backoff (as it did before the sweep looked at the jobs, it is not waited for).
    const worker = new Worker(
      journeys.name,
      async (job) => {
        if (job.data.customerId === 'ada') throw new UnrecoverableError('gave up');
        if (job.data.customerId === 'cy') throw new Error('try again');
      },
      { connection: h.ctx.redis, prefix: journeys.opts.prefix!, removeOnComplete: { count: 0 } },
    );
    try {
      await eventually(async () => (await jobOf.get('ada')!.getState()) === 'failed');
      await eventually(async () => (await journeys.getJob(jobOf.get('bo')!.id!)) === undefined);
      await eventually(async () => (await jobOf.get('cy')!.getState()) === 'delayed');
    } finally {
      await worker.close();
    }
    await expect(sweep('sweep-1')).resolves.toEqual({ rescued: 3, passComplete: true });
  });
});
