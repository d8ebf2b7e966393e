import type { Queue } from 'bullmq';
import { describe, expect, it } from 'vitest';
import { customerToken, silentLogger } from '../../engine/index.js';
import { sweepStrandedInboxes } from '../../engine/runtime/inbox-sweeper.js';
import { QUEUE_EVENTS_KEPT } from '../../engine/runtime/queues.js';
import { eraseQueueEvents } from '../../engine/store/queue-event-erasure.js';
import { engineEachTest } from '../support/engine.js';
import { eventually } from '../support/redis.js';

describe("the queues' event logs after an erasure", () => {
  const h = engineEachTest({ delivery: true, workers: true });

  const queues = () =>
    h.engine.queues.shards.flatMap((shard) => [shard.journeys, ...Object.values(shard.deliveries)]);

  /** Every entry of every queue's event log (BullMQ's `<queue>:events` stream), as its fields. */
  async function eventLogs(): Promise<string[][]> {
    const entries = await Promise.all(
      queues().map((queue) => h.ctx.redis.xrange(queue.toKey('events'), '-', '+')),
    );
    return entries.flat().map(([, fields]) => fields);
  }

  it('keep no entry about a job of the erased customer, and every other customer’s', async () => {
    for (const userId of ['ada@example.com', 'bo']) {
      await h.engine.identify({
        userId,
        traits: { firstName: 'A', email: `${userId.split('@')[0]}@example.com` },
      });
      await h.engine.track({ userId, event: 'Signed Up', properties: { plan: 'pro' } });
    }
    await eventually(async () => {
      const sent = await Promise.all(
        ['ada@example.com', 'bo'].map(async (id) =>
          (await h.engine.customer(id)).messages.some((m) => m.status === 'sent'),
        ),
      );
      return sent.every(Boolean);
    });
    // No job of theirs is running (a step finishing its commit): it would log its end after the erasure.
    await eventually(async () => {
      const counts = await Promise.all(queues().map((queue) => queue.getActiveCount()));
      return counts.every((n) => n === 0);
    });
    const names = (fields: string[], token: string) => fields.some((field) => field.includes(`-${token}-`));
    expect((await eventLogs()).some((fields) => names(fields, customerToken('ada@example.com')))).toBe(true);

    await h.engine.erase('ada@example.com');
    const left = await eventLogs();
    // Each entry names its job, whose id names the customer; a failure's also quotes its reason.
    expect(left.filter((fields) => names(fields, customerToken('ada@example.com')))).toEqual([]);
    expect(left.some((fields) => names(fields, customerToken('bo')))).toBe(true);
  });

  it('reads a long log page by page, to its end', async () => {
    const key = `${h.ctx.prefix}:test-events`;
    const batch = h.ctx.redis.pipeline();
    // Several entries share a millisecond: a page may end inside one.
    for (let i = 0; i < 2_500; i++)
      batch.xadd(
        key,
        `${1_000 + Math.floor(i / 7)}-${i % 7}`,
        'event',
        'added',
        'jobId',
        i % 2 ? `s-ada-j.${i}-1-0` : `s-bo-j.${i}-1-0`,
      );
    await batch.exec();
    const queue = { toKey: () => key } as unknown as Queue;
    expect(await eraseQueueEvents(h.ctx.redis, [queue], 'ada')).toBe(1_250);
    const left = await h.ctx.redis.xrange(key, '-', '+');
    expect(left).toHaveLength(1_250);
    expect(left.every(([, fields]) => fields[3]!.startsWith('s-bo-'))).toBe(true);
  });

  it('are kept short, so an erasure reads little of them', async () => {
    const queue = h.engine.queues.deliveries.webhook;
    await queue.pause();
    await queue.addBulk(Array.from({ length: 2_500 }, (_, i) => ({ name: 'n', data: { i } })));
    expect(await h.ctx.redis.hget(queue.toKey('meta'), 'opts.maxLenEvents')).toBe(String(QUEUE_EVENTS_KEPT));
    // Trimmed as Redis trims `MAXLEN ~`: whole nodes of a hundred entries at a time.
    expect(await h.ctx.redis.xlen(queue.toKey('events'))).toBeLessThanOrEqual(QUEUE_EVENTS_KEPT + 100);
    await queue.obliterate({ force: true });
  });

  it('keep no entry about a drain job the sweep added to rescue the customer’s stranded inbox', async () => {
    const customerId = 'ada@example.com';
    // Only the first half of ingest: the event is in the inbox, and no job was added to drain it.
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
    await expect(
      sweepStrandedInboxes({
        redis: h.ctx.redis,
        prefix: h.ctx.prefix,
        queues: h.engine.queues,
        logger: silentLogger,
        round: 'sweep-1',
        budgetMs: 60_000,
      }),
    ).resolves.toMatchObject({ rescued: 1 });
    const token = customerToken(customerId);
    const names = (fields: string[]) => fields.some((field) => field.includes(`-${token}-`));
    // The rescue job's id names the customer (`r-<customer>-<round>`), as the ingest's own would.
    await eventually(async () => (await eventLogs()).some(names));

    await h.engine.erase(customerId);
    expect((await eventLogs()).filter(names)).toEqual([]);
  });
});
