import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  ATTRIBUTION_SAMPLE,
  buildJourneyReport,
  customerKeys,
  defineJourney,
  InvalidInputError,
  recordDeliveryReport,
  recordEngagement,
  silentLogger,
  type Journey,
} from '../../engine/index.js';
import { queueConversions, type LoggedConversion } from '../../engine/store/conversion-log.js';
import { StatsWrites } from '../../engine/store/stats-writes.js';
import { countDaily, dailyCountsKey, utcDay } from '../../engine/tracking/daily-counts.js';
import { journeyCountsKey } from '../../engine/store/journey-counts.js';
import { dailyJourneyCountsKey } from '../../engine/store/daily-journey-counts.js';
import { testRedis } from '../support/redis.js';
import { winBack } from '../../journeys/win-back.js';

const DAY = 86_400_000;
const HOUR = 3_600_000;
const NOW = Date.parse('2026-11-23T10:00:00Z');

/** A one-state journey that sends one email and converts on `Order Completed`. */
function probeJourney(meta: Partial<Parameters<typeof defineJourney>[0]> = {}): Journey {
  return defineJourney({
    id: 'probe',
    version: 1,
    trigger: { event: 'Joined' },
    goal: { event: 'Order Completed', window: '7d' },
    ...meta,
    machine: (j) =>
      j.createMachine({
        initial: 'welcomed',
        states: { welcomed: { tags: 'awareness', entry: j.send('welcome', ['email']) } },
      }),
  });
}

describe('buildJourneyReport', () => {
  let ctx: ReturnType<typeof testRedis>;
  beforeEach(() => {
    ctx = testRedis();
  });
  afterEach(() => ctx.cleanup());

  /** Logs conversions as the journey worker does, one per customer `c<i>`. */
  async function converted(journeyId: string, ...conversions: Array<{ at: number; revenue?: number }>) {
    const writes = new StatsWrites();
    queueConversions(
      writes,
      ctx.prefix,
      conversions.map(({ at, revenue = 0 }, i): LoggedConversion => ({
        customerId: `c${i}`,
        journeyId,
        journeyVersion: 1,
        instanceId: `i${i}`,
        at,
        revenue,
        variants: {},
      })),
      NOW,
    );
    await writes.issue(ctx.redis);
  }

  const report = (journey: Journey, period: { from?: number; to?: number } = {}) =>
    buildJourneyReport({
      redis: ctx.redis,
      prefix: ctx.prefix,
      journey,
      from: period.from ?? NOW - 30 * DAY,
      to: period.to ?? NOW,
      now: NOW,
    });

  it('counts towards an objective only the conversions up to its deadline', async () => {
    const journey = probeJourney({
      objective: { metric: 'revenue', target: 100, start: '2026-01-01', deadline: '2026-06-30' },
    });
    // 60 on the last day of the period, 80 the day after it ended: the target was missed.
    await converted(
      'probe',
      { at: Date.parse('2026-06-30T23:59:59Z'), revenue: 60 },
      { at: Date.parse('2026-07-01T00:00:00Z'), revenue: 80 },
    );
    expect((await report(journey)).objective).toMatchObject({
      actual: 60,
      met: false,
      onTrack: false,
      daysLeft: 0,
    });
  });

  it("counts a conversions objective's year without reading each of its conversions", async () => {
    // The report read every conversion of the objective's period, a year of a busy journey's log,
    // on every request, to count them.
    const journey = probeJourney({
      objective: { metric: 'conversions', target: 100, start: '2026-01-01', deadline: '2026-12-31' },
    });
    await converted(
      'probe',
      { at: Date.parse('2026-02-01T00:00:00Z') },
      { at: NOW - DAY },
      { at: NOW + DAY },
    );
    const read: Array<[string, string]> = [];
    const counted = new Proxy(ctx.redis, {
      get(target, name, receiver) {
        const value: unknown = Reflect.get(target, name, receiver);
        if (name === 'zrangebyscore' && typeof value === 'function')
          return (...args: unknown[]) => {
            read.push([String(args[1]), String(args[2])]);
            return (value as (...a: unknown[]) => unknown).apply(target, args);
          };
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
    const today = Date.parse(utcDay(NOW));
    const result = await buildJourneyReport({
      redis: counted,
      prefix: ctx.prefix,
      journey,
      from: today - 7 * DAY,
      to: today,
      now: NOW,
    });
    expect(result.objective).toMatchObject({ actual: 2 });
    // Only the report's own week is read member by member.
    expect(read.every(([from]) => Number(from) >= today - 7 * DAY)).toBe(true);
  });

  it('adds up revenue in the decimals it was sent in, not with the rounding errors of binary fractions', async () => {
    const journey = probeJourney({
      objective: { metric: 'revenue', target: 0.8, start: '2026-11-01', deadline: '2026-11-30' },
    });
    // 0.7 + 0.1 is 0.7999999999999999 in binary floating point: short of a target of 0.8.
    await converted('probe', { at: NOW - 2 * DAY, revenue: 0.7 }, { at: NOW - DAY, revenue: 0.1 });
    const result = await report(journey, { from: Date.parse('2026-11-01') });
    expect(result.periodConversions).toEqual({ count: 2, revenue: 0.8 });
    expect(result.objective).toMatchObject({ actual: 0.8, met: true });
  });

  it('credits revenue in the attribution table without the rounding errors of binary fractions', async () => {
    await converted('probe', { at: NOW - 2 * DAY, revenue: 0.1 }, { at: NOW - DAY, revenue: 0.2 });
    for (const customer of ['c0', 'c1'])
      await ctx.redis.lpush(
        customerKeys(ctx.prefix, customer).messages,
        JSON.stringify({
          status: 'sent',
          at: NOW - 3 * DAY,
          channel: 'email',
          message: 'welcome',
          journeyId: 'probe',
        }),
      );
    const { attribution } = await report(probeJourney());
    expect(attribution.models['last-touch'].byChannel.email).toEqual({ conversions: 2, revenue: 0.3 });
  });

  it("attributes conversions past entries of a customer's message list that are not JSON objects, skipping and logging them", async () => {
    await converted('probe', { at: NOW - DAY, revenue: 5 }, { at: NOW - DAY, revenue: 7 });
    const welcome = JSON.stringify({
      status: 'sent',
      at: NOW - 3 * DAY,
      channel: 'email',
      message: 'welcome',
      journeyId: 'probe',
    });
    for (const customer of ['c0', 'c1'])
      await ctx.redis.lpush(customerKeys(ctx.prefix, customer).messages, welcome);
    // A write cut short, and a value of another shape, in c0's list only.
    for (const damaged of ['{"status":"sent","at":', 'null'])
      await ctx.redis.lpush(customerKeys(ctx.prefix, 'c0').messages, damaged);
    const warnings: Array<{ obj: object; msg?: string }> = [];
    const logger = { ...silentLogger, warn: (obj: object, msg?: string) => warnings.push({ obj, msg }) };
    const { attribution } = await buildJourneyReport({
      redis: ctx.redis,
      prefix: ctx.prefix,
      journey: probeJourney(),
      from: NOW - 30 * DAY,
      to: NOW,
      now: NOW,
      logger,
    });
    expect(attribution.models['last-touch'].byChannel.email).toEqual({ conversions: 2, revenue: 12 });
    expect(warnings).toEqual([
      {
        obj: { journeyId: 'probe', malformed: 2, customers: 1 },
        msg: expect.stringMatching(/message list.* skipped/),
      },
    ]);
  });

  it('has no conversion rate for an objective, rather than 0% and behind, while nobody entered in its period', async () => {
    const journey = probeJourney({
      objective: { metric: 'conversion-rate', target: 0.2, start: '2026-11-20', deadline: '2026-12-31' },
    });
    // Entries before the objective's start are not its.
    await ctx.redis.hset(dailyJourneyCountsKey(ctx.prefix, 'probe', '2026-11-19'), '1|entered|all', 5);
    expect((await report(journey)).objective).toMatchObject({
      actual: null,
      ratio: null,
      onTrack: null,
      met: false,
    });
  });

  it('reckons a conversion-rate objective over its own period, not since the journey began', async () => {
    const journey = probeJourney({
      objective: { metric: 'conversion-rate', target: 0.2, start: '2026-10-01', deadline: '2026-12-31' },
    });
    const day = (date: string, entered: number, converted: number) =>
      ctx.redis.hset(dailyJourneyCountsKey(ctx.prefix, 'probe', date), {
        '1|entered|all': entered,
        '1|converted|all': converted,
      });
    await day('2026-09-15', 20, 0); // before the objective's start
    await day('2026-10-02', 3, 1);
    await day('2026-11-23', 1, 0); // today
    await day('2026-11-24', 50, 50); // later than now: not counted yet
    // The journey's lifetime counts say 1 in 24; the objective's period says 1 in 4.
    await ctx.redis.hset(journeyCountsKey(ctx.prefix, 'probe'), {
      '1|entered|all': 24,
      '1|converted|all': 1,
    });
    expect((await report(journey)).objective).toMatchObject({ actual: 0.25, met: true });
    // A period longer than the 400 days read at once: its first days and its last both count.
    const long = probeJourney({
      objective: {
        metric: 'conversion-rate',
        target: 0.2,
        start: '2025-06-01T12:00:00Z',
        deadline: '2026-12-31',
      },
    });
    await day('2025-06-01', 4, 4);
    await day('2026-07-06', 4, 0); // the 401st day: the first of the second read
    // With the days above: 32 entered, 5 converted.
    expect((await report(long)).objective).toMatchObject({ actual: 5 / 32 });
  });

  it('covers every day of a whole leap year, the first included', async () => {
    const welcome = { journeyId: 'probe', message: 'welcome', channel: 'email', variant: 'control' } as const;
    await countDaily(ctx.redis, ctx.prefix, welcome, 'sent', Date.parse('2024-01-01T08:00:00Z'));
    await countDaily(ctx.redis, ctx.prefix, welcome, 'sent', Date.parse('2024-12-31T20:00:00Z'));
    const year = await report(probeJourney(), {
      from: Date.parse('2024-01-01T00:00:00Z'),
      to: Date.parse('2025-01-01T00:00:00Z'),
    });
    expect(year.daily).toHaveLength(366);
    expect([year.daily[0]!.day, year.daily.at(-1)!.day]).toEqual(['2024-01-01', '2024-12-31']);
    expect(year.messages.welcome?.sent).toBe(2);
  });

  it('refuses a period of more than 366 days, naming from, rather than reporting only part of it', async () => {
    const twoYears = report(probeJourney(), {
      from: Date.parse('2024-01-01T00:00:00Z'),
      to: Date.parse('2026-01-01T00:00:00Z'),
    });
    await expect(twoYears).rejects.toThrow(InvalidInputError);
    await expect(twoYears).rejects.toThrow(/from: .*731 days.*at most 366/);
    // 366 days from 10:00 to 10:00 touch 367 UTC days, and the daily figures are whole days.
    await expect(
      report(probeJourney(), {
        from: Date.parse('2024-01-15T10:00:00Z'),
        to: Date.parse('2025-01-15T10:00:00Z'),
      }),
    ).rejects.toThrow(/from: .*367 days/);
  });

  it('keeps split arms apart whose names hold an `=`', async () => {
    // The journey counts as the journey worker writes them: `<version>|variant|<split>=<arm>`.
    const counts = journeyCountsKey(ctx.prefix, 'probe');
    for (const [arm, entered, converted] of [
      ['price=9', 100, 30],
      ['price=19', 100, 10],
    ] as const) {
      await ctx.redis.hincrby(counts, `1|variant|offer=${arm}`, entered);
      await ctx.redis.hincrby(counts, `1|variant-converted|offer=${arm}`, converted);
    }
    const [offer] = (await report(probeJourney())).experiments;
    expect(offer?.split).toBe('offer');
    expect(
      offer?.report.variants.map(({ variant, entered, converted }) => [variant, entered, converted]),
    ).toEqual([
      ['price=19', 100, 10],
      ['price=9', 100, 30],
    ]);
  });

  it('shows every arm of a split the journey declares, at 0 before anyone enters it', async () => {
    const split = defineJourney({
      id: 'probe',
      version: 1,
      trigger: { event: 'Joined' },
      machine: (j) =>
        j.createMachine({
          initial: 'start',
          states: {
            start: {
              tags: 'awareness',
              always: j.split('offer', {
                a: { weight: 45, target: 'done' },
                b: { weight: 45, target: 'done' },
                holdout: { weight: 10, target: 'done' },
              }),
            },
            done: { tags: 'loyalty', type: 'final' },
          },
        }),
    });
    const rows = async () =>
      (await report(split)).experiments.map(({ split: id, control, report: r }) => [
        id,
        control,
        r.variants.map(({ variant, entered }) => `${variant} ${entered}`),
      ]);
    expect(await rows()).toEqual([['offer', 'a', ['a 0', 'b 0', 'holdout 0']]]);
    // Only the holdout has had a customer yet: the split is still there, its arms with it.
    await ctx.redis.hincrby(journeyCountsKey(ctx.prefix, 'probe'), '1|variant|offer=holdout', 1);
    expect(await rows()).toEqual([['offer', 'a', ['a 0', 'b 0', 'holdout 1']]]);
  });

  it('compares the arms with the control the split names, not the first in alphabetical order', async () => {
    // The shipped win-back test: `coupon` is the treatment, the letter without one its control.
    const [offer] = (await report(winBack)).experiments;
    expect(offer).toMatchObject({ split: 'offer', control: 'letter' });
    const counts = journeyCountsKey(ctx.prefix, 'win-back');
    await ctx.redis.hincrby(counts, '1|variant|offer=coupon', 100);
    await ctx.redis.hincrby(counts, '1|variant-converted|offer=coupon', 30);
    await ctx.redis.hincrby(counts, '1|variant|offer=letter', 100);
    await ctx.redis.hincrby(counts, '1|variant-converted|offer=letter', 10);
    const [read] = (await report(winBack)).experiments;
    const coupon = read?.report.variants.find((v) => v.variant === 'coupon');
    expect(read?.report.variants.find((v) => v.variant === 'letter')?.control).toBe(true);
    // The coupon's lift is read against the letter: +200%, not -67%.
    expect(coupon?.vsControl?.relativeLift).toBeCloseTo(2);
  });

  it('reads a state, stage or funnel counter a crash left below 0 as 0, not as "-1 customers now"', async () => {
    const counts = journeyCountsKey(ctx.prefix, 'probe');
    await ctx.redis.hincrby(counts, '1|entered', 2);
    await ctx.redis.hincrby(counts, '1|converted', -1);
    await ctx.redis.hincrby(counts, '1|reached|awareness', -1);
    await ctx.redis.hincrby(counts, '1|state|welcomed', -1);
    await ctx.redis.hincrby(counts, '1|stage|awareness', -1);
    const read = await report(probeJourney());
    expect(read).toMatchObject({ entered: 2, converted: 0, conversionRate: 0, states: {} });
    expect(read.funnel).toEqual({ awareness: 0 });
  });

  it('reads an arm whose counters a crash left apart (more conversions than entries) as all converted', async () => {
    const counts = journeyCountsKey(ctx.prefix, 'probe');
    await ctx.redis.hincrby(counts, '1|variant|offer=a', 10);
    await ctx.redis.hincrby(counts, '1|variant-converted|offer=a', 3);
    await ctx.redis.hincrby(counts, '1|variant|offer=b', 2);
    await ctx.redis.hincrby(counts, '1|variant-converted|offer=b', 3);
    const [offer] = (await report(probeJourney())).experiments;
    expect(
      offer?.report.variants.map(({ variant, entered, converted }) => [variant, entered, converted]),
    ).toEqual([
      ['a', 10, 3],
      ['b', 2, 2],
    ]);
  });

  it("credits a message's KPIs only with the conversions its own sends were the last touch of", async () => {
    // Two buyers in the period; both were sent this journey's welcome email. For c1 the last
    // touch before buying was the welcome email of another journey, a message both journeys send.
    const at = NOW - 2 * DAY;
    await converted('probe', { at }, { at });
    const sent = (customer: string, journeyId: string, daysBefore: number) =>
      ctx.redis.lpush(
        customerKeys(ctx.prefix, customer).messages,
        JSON.stringify({
          status: 'sent',
          at: at - daysBefore * DAY,
          channel: 'email',
          message: 'welcome',
          journeyId,
        }),
      );
    await sent('c0', 'probe', 2);
    await sent('c1', 'probe', 3);
    await sent('c1', 'winback', 1);
    const welcome = { journeyId: 'probe', message: 'welcome', channel: 'email', variant: 'control' } as const;
    for (const daysBefore of [2, 3])
      await countDaily(ctx.redis, ctx.prefix, welcome, 'sent', at - daysBefore * DAY);

    const result = await report(probeJourney());
    // Attribution itself credits any journey's sends: both conversions go to a welcome email.
    expect(result.attribution.models['last-touch'].byMessage.welcome?.conversions).toBe(2);
    // This journey's two welcome emails were the last touch of one conversion.
    expect(result.messages.welcome).toMatchObject({ sent: 2, conversions: 1, conversionRate: 0.5 });
    expect(result.channels.email).toMatchObject({ sent: 2, conversions: 1, conversionRate: 0.5 });
  });

  it("sets a non-UTC day's sends against the conversions of the same UTC days they are counted on", async () => {
    // 22 November in Tokyo: 2026-11-21T15:00Z to 2026-11-22T15:00Z. Sends are counted per UTC
    // day, so the report's sends are those of the 21st and 22nd (UTC), the two days it touches.
    const from = Date.parse('2026-11-22T00:00:00+09:00');
    const to = Date.parse('2026-11-23T00:00:00+09:00');
    const times = [
      // Sent and converted on the 21st (UTC), before the period began.
      { send: Date.parse('2026-11-21T09:00:00Z'), conversion: Date.parse('2026-11-21T11:00:00Z') },
      // Sent and converted in the period.
      { send: Date.parse('2026-11-21T16:00:00Z'), conversion: Date.parse('2026-11-21T18:00:00Z') },
      // Sent and converted on the 22nd (UTC), after the period ended.
      { send: Date.parse('2026-11-22T16:00:00Z'), conversion: Date.parse('2026-11-22T20:00:00Z') },
    ];
    await converted('probe', ...times.map(({ conversion }) => ({ at: conversion })));
    const welcome = { journeyId: 'probe', message: 'welcome', channel: 'email', variant: 'control' } as const;
    for (const [i, { send }] of times.entries()) {
      await countDaily(ctx.redis, ctx.prefix, welcome, 'sent', send);
      await ctx.redis.lpush(
        customerKeys(ctx.prefix, `c${i}`).messages,
        JSON.stringify({
          status: 'sent',
          at: send,
          channel: 'email',
          message: 'welcome',
          journeyId: 'probe',
        }),
      );
    }
    const result = await report(probeJourney(), { from, to });
    // The period's own conversions stay the period's.
    expect(result.periodConversions.count).toBe(1);
    // Three sends, each the last touch of a conversion: three of three, not one of three.
    expect(result.messages.welcome).toMatchObject({ sent: 3, conversions: 3, conversionRate: 1 });
    expect(result.sendsPeriod).toEqual({ from: '2026-11-21T00:00:00.000Z', to: '2026-11-23T00:00:00.000Z' });
  });

  it("rates a day's opens over its own sends, not above 100% with the opens of the day before's", async () => {
    const welcome = { journeyId: 'probe', message: 'welcome', channel: 'email', variant: 'control' } as const;
    const yesterday = NOW - DAY;
    // Two emails yesterday, both opened today; one email today, not opened.
    for (const [customerId, at] of [
      ['c0', yesterday],
      ['c1', yesterday],
      ['c2', NOW - HOUR],
    ] as const) {
      const opId = `op-${customerId}`;
      await countDaily(ctx.redis, ctx.prefix, welcome, 'sent', at);
      await ctx.redis.lpush(
        customerKeys(ctx.prefix, customerId).messages,
        JSON.stringify({ opId, ...welcome, status: 'sent', at }),
      );
      if (at === yesterday)
        await recordEngagement(ctx.redis, ctx.prefix, {
          send: { ...welcome, opId, customerId },
          kind: 'opened',
          at: NOW - 2 * HOUR,
        });
    }
    const today = Date.parse(utcDay(NOW));
    expect((await report(probeJourney(), { from: today, to: NOW })).messages.welcome).toMatchObject({
      sent: 1,
      opened: 0,
      openRate: 0,
    });
    expect((await report(probeJourney(), { from: today - DAY, to: today })).messages.welcome).toMatchObject({
      sent: 2,
      opened: 2,
      openRate: 1,
    });
  });

  it("credits a message's KPIs with the conversions of the period's sends, not of sends before it", async () => {
    // A one-day report. c0 to c4 were sent the welcome email three days before and bought in the
    // period; c5 was sent it in the period and bought; c6 and c7 were sent it in the period.
    const sentAt = (customer: string, at: number) =>
      ctx.redis.lpush(
        customerKeys(ctx.prefix, customer).messages,
        JSON.stringify({ status: 'sent', at, channel: 'email', message: 'welcome', journeyId: 'probe' }),
      );
    const welcome = { journeyId: 'probe', message: 'welcome', channel: 'email', variant: 'control' } as const;
    for (let i = 0; i < 5; i++) {
      await sentAt(`c${i}`, NOW - 3 * DAY);
      await countDaily(ctx.redis, ctx.prefix, welcome, 'sent', NOW - 3 * DAY);
    }
    for (const customer of ['c5', 'c6', 'c7']) {
      await sentAt(customer, NOW - 5 * HOUR);
      await countDaily(ctx.redis, ctx.prefix, welcome, 'sent', NOW - 5 * HOUR);
    }
    await converted('probe', ...Array.from({ length: 6 }, () => ({ at: NOW - HOUR })));

    const result = await report(probeJourney(), { from: NOW - DAY, to: NOW });
    // All six conversions are the period's, and attribution credits each to its welcome email.
    expect(result.attribution.models['last-touch'].byMessage.welcome?.conversions).toBe(6);
    // Of the period's three sends, one was the last touch of a conversion: not 6 of 3.
    expect(result.messages.welcome).toMatchObject({ sent: 3, conversions: 1, conversionRate: 1 / 3 });
    expect(result.channels.email).toMatchObject({ sent: 3, conversions: 1, conversionRate: 1 / 3 });
  });

  it("sets all of a busy period's conversions against its sends, not only the sample it attributes", async () => {
    // 2,500 buyers, each sent the welcome email a day before buying: more than the report credits.
    const buyers = ATTRIBUTION_SAMPLE + 500;
    const at = NOW - 2 * DAY;
    await converted('probe', ...Array.from({ length: buyers }, () => ({ at })));
    await Promise.all(
      Array.from({ length: buyers }, (_, i) =>
        ctx.redis.lpush(
          customerKeys(ctx.prefix, `c${i}`).messages,
          JSON.stringify({
            status: 'sent',
            at: at - DAY,
            channel: 'email',
            message: 'welcome',
            journeyId: 'probe',
          }),
        ),
      ),
    );
    await ctx.redis.hset(
      dailyCountsKey(ctx.prefix, 'probe', utcDay(at - DAY)),
      'welcome|email|control|sent',
      buyers,
    );

    const result = await report(probeJourney());
    expect(result.attribution).toMatchObject({ conversions: ATTRIBUTION_SAMPLE, sampled: true });
    // Every send converted: a rate of 1, not the sample's 2,000 over 2,500 sends.
    expect(result.messages.welcome).toMatchObject({ sent: buyers, conversions: buyers, conversionRate: 1 });
    expect(result.channels.email).toMatchObject({ conversions: buyers, conversionRate: 1 });
  });

  it('rates opens and clicks over the sends whose opens and clicks can be seen, not as 0% where none can', async () => {
    // The nudge went out 4 times by email (2 opened, 1 clicked), 4 by sms (2 clicked: its links are
    // tracked, but a text has no open pixel) and 2 by webhook (a payload: neither is seen).
    const at = NOW - DAY;
    const nudge = (channel: 'email' | 'sms' | 'webhook') =>
      ({ journeyId: 'probe', message: 'nudge', channel, variant: 'control' }) as const;
    for (const [channel, sends] of [
      ['email', 4],
      ['sms', 4],
      ['webhook', 2],
    ] as const)
      for (let i = 0; i < sends; i++) await countDaily(ctx.redis, ctx.prefix, nudge(channel), 'sent', at);
    for (let i = 0; i < 2; i++) await countDaily(ctx.redis, ctx.prefix, nudge('email'), 'opened', at);
    await countDaily(ctx.redis, ctx.prefix, nudge('email'), 'clicked', at);
    for (let i = 0; i < 2; i++) await countDaily(ctx.redis, ctx.prefix, nudge('sms'), 'clicked', at);

    const result = await report(probeJourney());
    expect(result.channels.email).toMatchObject({ openRate: 0.5, clickRate: 0.25 });
    expect(result.channels.sms).toMatchObject({ openRate: null, clickRate: 0.5 });
    expect(result.channels.webhook).toMatchObject({ openRate: null, clickRate: null });
    // 2 opens of 4 emails, 3 clicks of 8 emails and texts: not 2 and 3 of all 10 sends.
    expect(result.messages.nudge).toMatchObject({ sent: 10, openRate: 0.5, clickRate: 3 / 8 });
  });

  it('reports the sends, opens, clicks and conversions of each split variant', async () => {
    // A subject-line test: arm a's 4 emails were opened 3 times, arm b's 4 once; c0 bought after
    // arm a's email. A send outside the split is counted as `control`.
    const at = NOW - DAY;
    const send = (variant: string) =>
      ({ journeyId: 'probe', message: 'welcome', channel: 'email', variant }) as const;
    for (let i = 0; i < 4; i++) {
      await countDaily(ctx.redis, ctx.prefix, send('subject=a'), 'sent', at);
      await countDaily(ctx.redis, ctx.prefix, send('subject=b'), 'sent', at);
    }
    for (let i = 0; i < 3; i++) await countDaily(ctx.redis, ctx.prefix, send('subject=a'), 'opened', at);
    await countDaily(ctx.redis, ctx.prefix, send('subject=b'), 'opened', at);
    await countDaily(ctx.redis, ctx.prefix, send('subject=b'), 'clicked', at);
    await countDaily(ctx.redis, ctx.prefix, send('control'), 'sent', at);
    await ctx.redis.lpush(
      customerKeys(ctx.prefix, 'c0').messages,
      JSON.stringify({
        status: 'sent',
        at,
        channel: 'email',
        message: 'welcome',
        journeyId: 'probe',
        variant: 'subject=a',
      }),
    );
    await converted('probe', { at: at + HOUR });

    const { variants } = await report(probeJourney());
    expect(variants['subject=a']).toMatchObject({ sent: 4, opened: 3, openRate: 0.75, conversions: 1 });
    expect(variants['subject=b']).toMatchObject({
      sent: 4,
      openRate: 0.25,
      clickRate: 0.25,
      conversions: 0,
    });
    expect(variants.control).toMatchObject({ sent: 1, conversions: 0 });
  });

  it("rates a message's deliveries per channel, where one channel's provider reports them and another's does not", async () => {
    // The nudge went out by email (SMTP: no delivery reports; 1 of 4 bounced) and by sms (its
    // gateway reported 3 of 4 delivered).
    const at = NOW - DAY;
    const nudge = (channel: 'email' | 'sms') =>
      ({ journeyId: 'probe', message: 'nudge', channel, variant: 'control' }) as const;
    for (let i = 0; i < 4; i++) {
      await countDaily(ctx.redis, ctx.prefix, nudge('email'), 'sent', at);
      await countDaily(ctx.redis, ctx.prefix, nudge('sms'), 'sent', at);
    }
    await countDaily(ctx.redis, ctx.prefix, nudge('email'), 'bounced', at);
    await countDaily(ctx.redis, ctx.prefix, nudge('email'), 'complained', at);
    for (let i = 0; i < 3; i++) await countDaily(ctx.redis, ctx.prefix, nudge('sms'), 'delivered', at);

    const result = await report(probeJourney());
    expect(result.channels.email?.deliveryRate).toBe(0.75);
    expect(result.channels.sms?.deliveryRate).toBe(0.75);
    // 3 of 4 emails and 3 of 4 texts arrived: 6 of 8, not the texts' 3 over all 8 sends.
    expect(result.messages.nudge).toMatchObject({ sent: 8, delivered: 3, bounced: 1, deliveryRate: 0.75 });
    // The complaint the email's provider reported is shown beside its bounce.
    expect(result.channels.email).toMatchObject({ bounced: 1, complained: 1 });
    expect(result.channels.sms).toMatchObject({ bounced: 0, complained: 0 });
  });

  it('counts a send recorded unknown as sent once its provider reports it, so no rate passes 100%', async () => {
    // Two texts: one the gateway accepted, one whose request timed out after it reached the
    // gateway (recorded `unknown`). The gateway reported both delivered, and the second was
    // clicked: 2 delivered of 1 sent read as a delivery rate of 200%.
    const at = NOW - DAY;
    const nudge = { journeyId: 'probe', message: 'nudge', channel: 'sms', variant: 'control' } as const;
    for (const [customerId, status] of [
      ['c0', 'sent'],
      ['c1', 'unknown'],
    ] as const) {
      await ctx.redis.hset(customerKeys(ctx.prefix, customerId).state, 'rev', 1);
      await ctx.redis.lpush(
        customerKeys(ctx.prefix, customerId).messages,
        JSON.stringify({ opId: `op-${customerId}`, ...nudge, status, at }),
      );
      await countDaily(ctx.redis, ctx.prefix, nudge, status, at);
    }
    const delivered = (customerId: string) =>
      recordDeliveryReport(ctx.redis, ctx.prefix, {
        customerId,
        opId: `op-${customerId}`,
        status: 'delivered',
        at: at + HOUR,
      });
    await delivered('c0');
    await delivered('c1');
    // The click comes through the tracked link, which reads the send from the list itself.
    const click = () =>
      recordEngagement(ctx.redis, ctx.prefix, {
        send: { ...nudge, opId: 'op-c1', customerId: 'c1' },
        kind: 'clicked',
        at: NOW - HOUR,
        url: 'https://acme.example/',
        knownOnly: true,
      });
    await click();
    // Heard of again: counted once.
    await delivered('c1');
    await click();

    const result = await report(probeJourney());
    expect(result.channels.sms).toMatchObject({
      sent: 2,
      delivered: 2,
      deliveryRate: 1,
      clicked: 1,
      clickRate: 0.5,
    });
    expect(
      await ctx.redis.hget(dailyCountsKey(ctx.prefix, 'probe', utcDay(at)), 'nudge|sms|control|unknown'),
    ).toBe('0');

    // A send first heard of by a click is counted as sent too.
    await ctx.redis.hset(customerKeys(ctx.prefix, 'c2').state, 'rev', 1);
    await ctx.redis.lpush(
      customerKeys(ctx.prefix, 'c2').messages,
      JSON.stringify({ opId: 'op-c2', ...nudge, status: 'unknown', at }),
    );
    await countDaily(ctx.redis, ctx.prefix, nudge, 'unknown', at);
    await recordEngagement(ctx.redis, ctx.prefix, {
      send: { ...nudge, opId: 'op-c2', customerId: 'c2' },
      kind: 'clicked',
      at: NOW - HOUR,
      url: 'https://acme.example/',
      knownOnly: true,
    });
    expect((await report(probeJourney())).channels.sms).toMatchObject({ sent: 3, clicked: 2 });
  });

  it('counts a send recorded unknown that carried no open pixel or tracked link as such once it is counted sent', async () => {
    // TRACK_OPENS=false and no link: the email's opens and clicks cannot be seen, and its entry
    // says so. Its provider went silent (recorded `unknown`), then reported it delivered, and the
    // customer clicked a link of a later message: not seen is not 0%.
    const at = NOW - DAY;
    const nudge = { journeyId: 'probe', message: 'nudge', channel: 'email', variant: 'control' } as const;
    for (const customerId of ['c0', 'c1']) {
      await ctx.redis.hset(customerKeys(ctx.prefix, customerId).state, 'rev', 1);
      await ctx.redis.lpush(
        customerKeys(ctx.prefix, customerId).messages,
        JSON.stringify({
          opId: `op-${customerId}`,
          ...nudge,
          status: 'unknown',
          at,
          untracked: ['opens', 'clicks'],
        }),
      );
      await countDaily(ctx.redis, ctx.prefix, nudge, 'unknown', at);
    }
    // One settled by its provider's report, the other by an event the list is read for.
    await recordDeliveryReport(ctx.redis, ctx.prefix, {
      customerId: 'c0',
      opId: 'op-c0',
      status: 'delivered',
      at: at + HOUR,
    });
    await recordEngagement(ctx.redis, ctx.prefix, {
      send: { ...nudge, opId: 'op-c1', customerId: 'c1' },
      kind: 'delivered',
      at: at + HOUR,
      knownOnly: true,
    });

    const result = await report(probeJourney());
    expect(result.channels.email).toMatchObject({ sent: 2, delivered: 2, openRate: null, clickRate: null });
    expect(await ctx.redis.hgetall(dailyCountsKey(ctx.prefix, 'probe', utcDay(at)))).toMatchObject({
      'nudge|email|control|opens-untracked': '2',
      'nudge|email|control|clicks-untracked': '2',
    });
  });

  it('credits a conversion to the messages that reached the customer: not a bounced one, and an unknown one the provider delivered', async () => {
    // c0 was texted, then emailed at an address that bounced: the text was the last message
    // that reached them. c1 was emailed, then sent a push whose request broke after FCM had it
    // (recorded `unknown`), which FCM's report later showed delivered.
    const at = NOW - 2 * DAY;
    await converted('probe', { at }, { at });
    const sent = async (
      customerId: string,
      opId: string,
      channel: string,
      status: string,
      daysBefore: number,
    ) => {
      await ctx.redis.hset(customerKeys(ctx.prefix, customerId).state, 'rev', 1);
      await ctx.redis.lpush(
        customerKeys(ctx.prefix, customerId).messages,
        JSON.stringify({
          opId,
          journeyId: 'probe',
          message: 'welcome',
          channel,
          status,
          at: at - daysBefore * DAY,
        }),
      );
    };
    const reported = (customerId: string, opId: string, status: 'bounced' | 'delivered') =>
      recordDeliveryReport(ctx.redis, ctx.prefix, { customerId, opId, status, at: at - HOUR });
    await sent('c0', 'op-text', 'sms', 'sent', 2);
    await sent('c0', 'op-mail', 'email', 'sent', 1);
    await reported('c0', 'op-mail', 'bounced');
    await sent('c1', 'op-mail', 'email', 'sent', 3);
    await sent('c1', 'op-push', 'push', 'unknown', 1);
    await reported('c1', 'op-push', 'delivered');

    const { models } = (await report(probeJourney())).attribution;
    expect(models['last-touch'].byChannel).toEqual({
      push: { conversions: 1, revenue: 0 },
      sms: { conversions: 1, revenue: 0 },
    });
    expect(models['first-touch'].byChannel).toEqual({
      email: { conversions: 1, revenue: 0 },
      sms: { conversions: 1, revenue: 0 },
    });

    // A bounce followed by a delivery (a soft bounce the provider retried) reached the customer.
    await reported('c0', 'op-mail', 'delivered');
    expect((await report(probeJourney())).attribution.models['last-touch'].byChannel).toEqual({
      email: { conversions: 1, revenue: 0 },
      push: { conversions: 1, revenue: 0 },
    });
  });

  it("credits a sampled period's messages from conversions drawn over all of it, not its last days", async () => {
    // 3,000 buyers, more than the report credits: 1,500 bought three weeks ago after the `early`
    // email, 1,500 this week after the `late` one. The latest 2,000 conversions, scaled to 3,000,
    // credited `late` with 2,250 conversions of its 1,500 sends (150%) and `early` with half its own.
    const buyers = 3000;
    const early = NOW - 20 * DAY;
    const late = NOW - 3 * DAY;
    const sentAt = (i: number) => (i < buyers / 2 ? early : late);
    await converted('probe', ...Array.from({ length: buyers }, (_, i) => ({ at: sentAt(i) + DAY })));
    await Promise.all(
      Array.from({ length: buyers }, (_, i) =>
        ctx.redis.lpush(
          customerKeys(ctx.prefix, `c${i}`).messages,
          JSON.stringify({
            status: 'sent',
            at: sentAt(i),
            channel: 'email',
            message: i < buyers / 2 ? 'early' : 'late',
            journeyId: 'probe',
          }),
        ),
      ),
    );
    for (const [message, at] of [
      ['early', early],
      ['late', late],
    ] as const)
      await ctx.redis.hset(
        dailyCountsKey(ctx.prefix, 'probe', utcDay(at)),
        `${message}|email|control|sent`,
        buyers / 2,
      );

    const result = await report(probeJourney());
    expect(result.attribution).toMatchObject({ conversions: ATTRIBUTION_SAMPLE, sampled: true });
    for (const message of ['early', 'late']) {
      expect(result.messages[message]?.conversionRate).toBeGreaterThan(0.9);
      expect(result.messages[message]?.conversionRate).toBeLessThan(1.1);
    }
  });
});
