import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  abandonOperation,
  claimOperation,
  endErasedOperations,
  endOperation,
  noteOperation,
  releaseOperation,
  rerouteOperation,
} from '../../engine/delivery/delivery-ledger.js';
import { customerKeys } from '../../engine/index.js';
import { CustomerJobIndex } from '../../engine/store/customer-jobs.js';
import { testRedis } from '../support/redis.js';

describe('the delivery ledger', () => {
  let ctx: ReturnType<typeof testRedis>;
  let keys: { op: string; messages: string };

  beforeEach(() => {
    ctx = testRedis();
    const customer = customerKeys(ctx.prefix, 'ada');
    keys = { op: customer.op('op-1'), messages: customer.messages };
  });

  afterEach(() => ctx.cleanup());

  const claim = (channel: 'email' | 'sms' | 'in-app', token = 'run-1') =>
    claimOperation(ctx.redis, keys.op, { token, now: 1_000, staleMs: 60_000, channel });
  const held = { opId: 'op-1', status: 'delayed', at: 1_000 };
  const notes = async () => (await ctx.redis.lrange(keys.messages, 0, -1)).map((entry) => JSON.parse(entry));

  it('keeps the first route: a run that decided otherwise is told where the send went, and that it did not set it', async () => {
    expect(await rerouteOperation(ctx.redis, keys, 'email', 'sms', { to: 'sms' }, 10)).toEqual({
      result: 'route',
      channel: 'sms',
      set: true,
    });
    expect(await rerouteOperation(ctx.redis, keys, 'email', 'in-app', { to: 'in-app' }, 10)).toEqual({
      result: 'route',
      channel: 'sms',
      set: false,
    });
    expect(await notes()).toEqual([{ to: 'sms' }]);
    expect(await claim('email')).toEqual({ result: 'rerouted', to: 'sms' });
    expect(await claim('sms')).toEqual({ result: 'claimed', repeat: false });
  });

  it('lets the channel it was handed to hand it on again: a send falls back along several', async () => {
    await rerouteOperation(ctx.redis, keys, 'email', 'push', { to: 'push' }, 10);
    expect(await rerouteOperation(ctx.redis, keys, 'push', 'in-app', { to: 'in-app' }, 10)).toEqual({
      result: 'route',
      channel: 'in-app',
      set: true,
    });
    // A late run of the email job is told where the send is now.
    expect(await rerouteOperation(ctx.redis, keys, 'email', 'sms', { to: 'sms' }, 10)).toEqual({
      result: 'route',
      channel: 'in-app',
      set: false,
    });
    expect(await notes()).toEqual([{ to: 'in-app' }, { to: 'push' }]);
  });

  it('does not hand on a send whose provider may have it', async () => {
    await claim('email');
    await releaseOperation(ctx.redis, keys.op, 'run-1', true);
    expect(await rerouteOperation(ctx.redis, keys, 'email', 'sms', { to: 'sms' }, 10)).toEqual({
      result: 'sending',
    });
  });

  it('hands on neither a send that ended nor one a run is sending', async () => {
    expect(await claim('email')).toEqual({ result: 'claimed', repeat: false });
    expect(await rerouteOperation(ctx.redis, keys, 'email', 'sms', { to: 'sms' }, 10)).toEqual({
      result: 'sending',
    });
    await endOperation(ctx.redis, keys, 'sent', { status: 'sent' }, 10);
    expect(await rerouteOperation(ctx.redis, keys, 'email', 'sms', { to: 'sms' }, 10)).toEqual({
      result: 'ended',
      outcome: 'sent',
    });
    expect(await notes()).toEqual([{ status: 'sent' }]);
  });

  it("ends an erased customer's operations: no claim, no outcome, no note", async () => {
    expect(await claim('email')).toEqual({ result: 'claimed', repeat: false });
    await endErasedOperations(ctx.redis, [keys.op], 5_000);

    expect(await ctx.redis.hgetall(keys.op)).toEqual({ state: 'skipped', erased: '5000' });
    expect(await ctx.redis.pttl(keys.op)).toBeGreaterThan(0);
    expect(await claim('email', 'run-2')).toEqual({ result: 'ended', outcome: 'skipped' });
    expect(await endOperation(ctx.redis, keys, 'sent', { status: 'sent' }, 10)).toEqual({ recorded: false });
    expect(await noteOperation(ctx.redis, keys, held, 10)).toEqual({ noted: false });
    expect(await ctx.redis.exists(keys.messages)).toBe(0);
    // Kept longer than the ledger, for a job a policy held back weeks.
    expect(await ctx.redis.pttl(keys.op)).toBeGreaterThan(7 * 86_400_000);
  });

  it('marks a send whose provider went silent with it: the next claim is a repeat, giving up ends unknown', async () => {
    await claim('email');
    await releaseOperation(ctx.redis, keys.op, 'run-1', true);
    expect(await claim('email', 'run-2')).toEqual({ result: 'claimed', repeat: true });
    await releaseOperation(ctx.redis, keys.op, 'run-2');
    const entries = { unknown: { status: 'unknown' }, failed: { status: 'failed' } };
    expect(await abandonOperation(ctx.redis, keys, 'email', entries, 10)).toBe('unknown');
  });

  it('forgets the mark once the send has an outcome, and gives up on an unmarked one as failed', async () => {
    await claim('email');
    await releaseOperation(ctx.redis, keys.op, 'run-1', true);
    await endOperation(ctx.redis, keys, 'sent', { status: 'sent' }, 10);
    expect(await ctx.redis.hget(keys.op, 'maybe')).toBeNull();

    const other = customerKeys(ctx.prefix, 'ada');
    const plain = { op: other.op('op-2'), messages: other.messages };
    await claimOperation(ctx.redis, plain.op, { token: 'run-1', now: 1, staleMs: 60_000, channel: 'email' });
    await releaseOperation(ctx.redis, plain.op, 'run-1');
    const entries = { unknown: { status: 'unknown' }, failed: { status: 'failed' } };
    expect(await abandonOperation(ctx.redis, plain, 'email', entries, 10)).toBe('failed');
  });

  it('notes a held send while its operation is open', async () => {
    expect(await noteOperation(ctx.redis, keys, held, 10)).toEqual({ noted: true });
    expect(await notes()).toEqual([held]);
  });

  it("keeps one note of a send held again and again, so the customer's other sends stay on the list", async () => {
    await endOperation(
      ctx.redis,
      { ...keys, op: `${keys.op}-other` },
      'sent',
      { opId: 'op-0', status: 'sent' },
      3,
    );
    for (let at = 1; at <= 5; at++) await noteOperation(ctx.redis, keys, { ...held, at, until: at + 100 }, 3);
    expect(await notes()).toEqual([
      { ...held, at: 5, until: 105, holds: 5, heldSince: 1 },
      { opId: 'op-0', status: 'sent' },
    ]);
  });

  it('folds the notes an older Chorus wrote for each hold into one, counting them', async () => {
    const older = [
      { opId: 'op-2', status: 'delayed', at: 1 },
      { ...held, at: 2 },
      { opId: 'op-2', status: 'sent', at: 3 },
      { ...held, at: 4, holds: 2, heldSince: 3 },
      { ...held, status: 'rerouted', at: 5 },
    ];
    await ctx.redis.lpush(keys.messages, ...older.map((entry) => JSON.stringify(entry)));
    await noteOperation(ctx.redis, keys, { ...held, at: 6 }, 10);
    expect(await notes()).toEqual([
      { ...held, at: 6, holds: 4, heldSince: 2 },
      { ...held, status: 'rerouted', at: 5 },
      { opId: 'op-2', status: 'sent', at: 3 },
      { opId: 'op-2', status: 'delayed', at: 1 },
    ]);
  });

  it('names a held send in the job index for as long as it is held, also where the index had expired', async () => {
    const index = { key: customerKeys(ctx.prefix, 'ada').jobs, member: 's:op-1', ttlMs: 40 * 86_400_000 };
    await noteOperation(ctx.redis, keys, held, 10, index);
    expect(await ctx.redis.smembers(index.key)).toEqual(['s:op-1']);
    expect(await ctx.redis.pttl(index.key)).toBeGreaterThan(39 * 86_400_000);
    // A shorter hold never shortens it, nor does a later step's send naming its job.
    await noteOperation(ctx.redis, keys, held, 10, { ...index, ttlMs: 1000 });
    await new CustomerJobIndex(ctx.redis, ctx.prefix).record('ada', [{ queue: 'deliveries', jobId: 'op-2' }]);
    expect(await ctx.redis.pttl(index.key)).toBeGreaterThan(39 * 86_400_000);
    expect((await ctx.redis.smembers(index.key)).sort()).toEqual(['s:op-1', 's:op-2']);
  });
});
