import { Redis } from 'ioredis';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  InvalidDayRangeError,
  InvalidInputError,
  readDailyCounts,
  readEngagement,
  readSendEngagement,
  recordDeliveryReport,
  recordEngagement,
  silentLogger,
  TRACKED_SENDS_CAP,
  type TrackedSend,
} from '../../engine/index.js';
import { customerKeys } from '../../engine/store/customer-keys.js';
import { testRedis } from '../support/redis.js';

const DAY = Date.parse('2026-11-23T10:00:00Z');
const send: TrackedSend = {
  opId: 'op-1',
  customerId: 'ada',
  journeyId: 'onboarding',
  message: 'welcome',
  channel: 'email',
  variant: 'subject=b',
};

describe('recording opens, clicks and provider reports', () => {
  let ctx: ReturnType<typeof testRedis>;
  beforeEach(() => {
    ctx = testRedis();
  });
  afterEach(() => ctx.cleanup());

  const counts = (from = '2026-11-23', to = from) =>
    readDailyCounts(ctx.redis, ctx.prefix, { journeyId: 'onboarding', from, to });

  it('counts the first open of a send once, however often its pixel loads', async () => {
    const firsts = [];
    for (const at of [DAY, DAY + 1000, DAY + 2000])
      firsts.push((await recordEngagement(ctx.redis, ctx.prefix, { send, kind: 'opened', at })).first);
    expect(firsts).toEqual([true, false, false]);
    expect(await counts()).toEqual([
      {
        day: '2026-11-23',
        message: 'welcome',
        channel: 'email',
        variant: 'subject=b',
        counts: { opened: 1 },
      },
    ]);
    expect((await readSendEngagement(ctx.redis, ctx.prefix, 'ada')).get('op-1')).toEqual({ openedAt: DAY });
    expect(await readEngagement(ctx.redis, ctx.prefix, 'ada')).toHaveLength(1);
  });

  it('counts a send as clicked once and every click in clicks, listing each with its URL', async () => {
    const url = 'https://example.com/?utm_source=chorus';
    await recordEngagement(ctx.redis, ctx.prefix, { send, kind: 'clicked', at: DAY, url });
    await recordEngagement(ctx.redis, ctx.prefix, { send, kind: 'clicked', at: DAY + 5, url });
    await recordEngagement(ctx.redis, ctx.prefix, {
      send: { ...send, opId: 'op-2' },
      kind: 'clicked',
      at: DAY,
      url,
    });
    expect((await counts())[0]!.counts).toEqual({ clicked: 2, clicks: 3 });
    expect((await readSendEngagement(ctx.redis, ctx.prefix, 'ada')).get('op-1')).toEqual({
      clickedAt: DAY,
      clicks: 2,
    });
    const listed = await readEngagement(ctx.redis, ctx.prefix, 'ada');
    expect(listed.map((e) => [e.kind, e.opId, e.at, e.url])).toEqual([
      ['clicked', 'op-2', DAY, url],
      ['clicked', 'op-1', DAY + 5, url],
      ['clicked', 'op-1', DAY, url],
    ]);
  });

  it('keeps the customer’s records in their hash tag and the counters per journey per UTC day', async () => {
    await recordEngagement(ctx.redis, ctx.prefix, { send, kind: 'opened', at: DAY });
    await recordEngagement(ctx.redis, ctx.prefix, {
      send: { ...send, opId: 'op-3', channel: 'sms', variant: 'control' },
      kind: 'clicked',
      at: DAY + 86_400_000,
      url: 'https://example.com/',
    });
    const keys = customerKeys(ctx.prefix, 'ada');
    expect(keys.tracked.startsWith(keys.state)).toBe(true);
    expect(keys.engagement.startsWith(keys.state)).toBe(true);
    expect(await ctx.redis.hgetall(`${ctx.prefix}:stats:day:onboarding:2026-11-23`)).toEqual({
      'welcome|email|subject=b|opened': '1',
    });
    expect((await counts('2026-11-22', '2026-11-25')).map((r) => [r.day, r.channel, r.counts])).toEqual([
      ['2026-11-23', 'email', { opened: 1 }],
      ['2026-11-24', 'sms', { clicked: 1, clicks: 1 }],
    ]);
  });

  it("counts an open, click or report on the day of its send, so a day's rates set its sends against their own", async () => {
    // Sent on the 23rd: its entry on the customer's message list says when.
    const entry = { opId: 'op-1', journeyId: 'onboarding', message: 'welcome', channel: 'email' };
    await ctx.redis.lpush(
      customerKeys(ctx.prefix, 'ada').messages,
      JSON.stringify({ ...entry, variant: 'subject=b', status: 'rerouted', at: DAY - 5000 }),
      JSON.stringify({ ...entry, variant: 'subject=b', status: 'sent', at: DAY }),
    );
    // Opened and clicked the next day, reported delivered two days later.
    await recordEngagement(ctx.redis, ctx.prefix, { send, kind: 'opened', at: DAY + 86_400_000 });
    await recordEngagement(ctx.redis, ctx.prefix, { send, kind: 'clicked', at: DAY + 86_400_000 });
    await recordEngagement(ctx.redis, ctx.prefix, { send, kind: 'clicked', at: DAY + 2 * 86_400_000 });
    await recordEngagement(ctx.redis, ctx.prefix, { send, kind: 'delivered', at: DAY + 2 * 86_400_000 });
    expect((await counts('2026-11-23', '2026-11-25')).map((r) => [r.day, r.counts])).toEqual([
      ['2026-11-23', { opened: 1, clicked: 1, clicks: 2, delivered: 1 }],
    ]);
    // A send the list no longer holds is counted on the day of what happened.
    await recordEngagement(ctx.redis, ctx.prefix, {
      send: { ...send, opId: 'op-old' },
      kind: 'opened',
      at: DAY + 86_400_000,
    });
    expect((await counts('2026-11-24'))[0]?.counts).toEqual({ opened: 1 });
  });

  it('keeps the engagement of the last sends only, dropping the oldest send whole', async () => {
    const opened = (opId: string, at: number) =>
      recordEngagement(ctx.redis, ctx.prefix, { send: { ...send, opId }, kind: 'opened', at });
    await recordEngagement(ctx.redis, ctx.prefix, {
      send,
      kind: 'clicked',
      at: DAY,
      url: 'https://a.example/',
    });
    await opened('op-1', DAY + 1);
    for (let i = 2; i <= TRACKED_SENDS_CAP; i++) await opened(`op-${i}`, DAY + i);
    const keys = customerKeys(ctx.prefix, 'ada');
    expect(await ctx.redis.zcard(keys.trackedOps)).toBe(TRACKED_SENDS_CAP);
    expect((await readSendEngagement(ctx.redis, ctx.prefix, 'ada')).get('op-1')).toEqual({
      clickedAt: DAY,
      clicks: 1,
      openedAt: DAY + 1,
    });
    // One more send: the oldest goes, every field of it.
    await opened('op-new', DAY + 10_000);
    const kept = await readSendEngagement(ctx.redis, ctx.prefix, 'ada');
    expect(kept.has('op-1')).toBe(false);
    expect(kept.size).toBe(TRACKED_SENDS_CAP);
    expect(await ctx.redis.hlen(keys.tracked)).toBe(TRACKED_SENDS_CAP);
    expect(keys.trackedOps.startsWith(keys.state)).toBe(true);
  });

  it('refuses a day range it cannot read', async () => {
    await expect(counts('2026-11-24', '2026-11-23')).rejects.toBeInstanceOf(InvalidDayRangeError);
    await expect(counts('23/11/2026', '2026-11-23')).rejects.toThrow(/CHORUS|not a day/);
    await expect(counts('2025-01-01', '2026-11-23')).rejects.toMatchObject({
      code: 'CHORUS_DAY_RANGE_INVALID',
    });
  });

  describe('a provider report', () => {
    /** Ada's send, as the journey step that made it leaves her: a state, and the send listed. */
    async function sent(status = 'sent') {
      const entry = { ...send, status, variant: 'subject=b', at: DAY };
      await ctx.redis.hset(customerKeys(ctx.prefix, 'ada').state, 'rev', 1);
      await ctx.redis.lpush(customerKeys(ctx.prefix, 'ada').messages, JSON.stringify(entry));
    }

    it('is recorded and counted once per send and status, read from the message list', async () => {
      await sent();
      const report = { customerId: 'ada', opId: 'op-1', status: 'delivered' as const, at: DAY + 10 };
      expect(await recordDeliveryReport(ctx.redis, ctx.prefix, report)).toEqual({ recorded: 'first' });
      expect(await recordDeliveryReport(ctx.redis, ctx.prefix, report)).toEqual({ recorded: 'repeat' });
      const bounce = { ...report, status: 'bounced' as const, reason: '550 5.1.1 no such user' };
      expect(await recordDeliveryReport(ctx.redis, ctx.prefix, bounce)).toEqual({ recorded: 'first' });
      expect((await counts())[0]).toMatchObject({
        message: 'welcome',
        channel: 'email',
        variant: 'subject=b',
        counts: { delivered: 1, bounced: 1 },
      });
      expect((await readSendEngagement(ctx.redis, ctx.prefix, 'ada')).get('op-1')).toEqual({
        deliveredAt: DAY + 10,
        bouncedAt: DAY + 10,
      });
      expect((await readEngagement(ctx.redis, ctx.prefix, 'ada'))[0]).toMatchObject({
        kind: 'bounced',
        reason: '550 5.1.1 no such user',
      });
    });

    it('is counted on the day of the send it was matched to, the message list being read once', async () => {
      await sent();
      // The list changes between the report's read and its write: newer entries push the send off.
      const messages = customerKeys(ctx.prefix, 'ada').messages;
      type Lrange = (this: Redis, key: string, start: number, stop: number) => Promise<string[]>;
      const commands = Object.getPrototypeOf(Redis.prototype) as { lrange: Lrange };
      const lrange = commands.lrange;
      commands.lrange = async function (key, start, stop) {
        commands.lrange = lrange;
        const list = await lrange.call(this, key, start, stop);
        if (key === messages) await ctx.redis.del(messages);
        return list;
      };
      const report = {
        customerId: 'ada',
        opId: 'op-1',
        status: 'bounced' as const,
        at: DAY + 2 * 86_400_000,
      };
      const recorded = await recordDeliveryReport(ctx.redis, ctx.prefix, report).finally(() => {
        commands.lrange = lrange;
      });
      expect(recorded).toEqual({ recorded: 'first' });
      expect((await counts('2026-11-23', '2026-11-25')).map((r) => [r.day, r.counts])).toEqual([
        ['2026-11-23', { bounced: 1 }],
      ]);
    });

    it('is recorded past entries of the message list that are not JSON objects, which are skipped and logged', async () => {
      await sent();
      const messages = customerKeys(ctx.prefix, 'ada').messages;
      // A write cut short, a hand edit, a value of another shape: newer than the send, read first.
      for (const damaged of ['{"opId":"op-1","status":"se', 'not json', 'null'])
        await ctx.redis.lpush(messages, damaged);
      const warnings: Array<{ obj: object; msg?: string }> = [];
      const logger = { ...silentLogger, warn: (obj: object, msg?: string) => warnings.push({ obj, msg }) };
      const report = { customerId: 'ada', opId: 'op-1', status: 'delivered' as const, at: DAY + 10 };
      expect(await recordDeliveryReport(ctx.redis, ctx.prefix, report, { logger })).toEqual({
        recorded: 'first',
      });
      expect((await counts())[0]).toMatchObject({ message: 'welcome', counts: { delivered: 1 } });
      expect(warnings).toEqual([
        {
          obj: { customerId: 'ada', malformed: 3 },
          msg: expect.stringMatching(/message list .* skipped/),
        },
      ]);
      // And without a logger, as before.
      expect(await recordDeliveryReport(ctx.redis, ctx.prefix, report)).toEqual({ recorded: 'repeat' });
    });

    it('for a send the customer has no record of changes nothing', async () => {
      await sent('skipped');
      const report = { customerId: 'ada', opId: 'op-1', status: 'delivered' as const, at: DAY };
      expect(await recordDeliveryReport(ctx.redis, ctx.prefix, report)).toEqual({ recorded: 'unknown-send' });
      expect(await recordDeliveryReport(ctx.redis, ctx.prefix, { ...report, customerId: 'nobody' })).toEqual({
        recorded: 'unknown-send',
      });
      expect(await counts()).toEqual([]);
    });

    it('refuses a time past year 9999 before recording anything, rather than failing to count it', async () => {
      await sent();
      // Epoch microseconds read as milliseconds: year 287,000, which no day of the counters can hold.
      const report = {
        customerId: 'ada',
        opId: 'op-1',
        status: 'delivered' as const,
        at: 9_000_000_000_000_000,
      };
      const error = await recordDeliveryReport(ctx.redis, ctx.prefix, report).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(InvalidInputError);
      expect((error as InvalidInputError).issues.map((i) => i.field)).toEqual(['at']);
      // The provider's retry with the right time is then the first, and counted.
      expect(await recordDeliveryReport(ctx.redis, ctx.prefix, { ...report, at: DAY })).toEqual({
        recorded: 'first',
      });
      expect((await counts())[0]?.counts).toEqual({ delivered: 1 });
    });

    it('is checked: a malformed report is refused with the fields named', async () => {
      const bad = { customerId: 'ada', opId: '', status: 'opened', at: -1 };
      const error = await recordDeliveryReport(ctx.redis, ctx.prefix, bad as never).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(InvalidInputError);
      expect((error as InvalidInputError).issues.map((i) => i.field).sort()).toEqual([
        'at',
        'opId',
        'status',
      ]);
    });
  });
});
