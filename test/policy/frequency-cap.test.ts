import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  customerKeys,
  FrequencyCapRules,
  frequencyCaps,
  loadConfig,
  PolicyConfigError,
  type DeliveryJobData,
  type DeliveryPolicy,
} from '../../engine/index.js';
import { endErasedOperations } from '../../engine/delivery/delivery-ledger.js';
import { testRedis } from '../support/redis.js';
import { sendJob } from './send-job.js';

const HOUR = 3_600_000;
const T0 = Date.parse('2026-06-01T09:00:00Z');

describe('frequency caps across journeys, counted atomically in Redis', () => {
  let ctx: ReturnType<typeof testRedis>;
  let caps: DeliveryPolicy;

  beforeEach(() => {
    ctx = testRedis();
    caps = frequencyCaps({
      redis: ctx.redis,
      prefix: ctx.prefix,
      rules: FrequencyCapRules.parse('marketing:3/24h,sms:1/1d'),
    });
  });

  afterEach(() => ctx.cleanup());

  const check = (opId: string, now: number, job: Partial<DeliveryJobData> = {}) => {
    const data = sendJob({ opId, ...job });
    return caps.check({ job: data, channel: data.channel, traits: {}, now });
  };

  it('lets three marketing sends through in 24 hours and holds the fourth until the first leaves the window', async () => {
    expect(await check('a', T0)).toEqual({ action: 'send' });
    expect(await check('b', T0 + 1 * HOUR, { journeyId: 'win-back' })).toEqual({ action: 'send' });
    expect(await check('c', T0 + 2 * HOUR)).toEqual({ action: 'send' });
    expect(await check('d', T0 + 3 * HOUR)).toEqual({
      action: 'delay',
      untilMs: T0 + 24 * HOUR,
      reason: 'frequency cap marketing:3/24h reached: waits until 2026-06-02T09:00:00.000Z',
    });
    // One millisecond before the first send leaves the window it still counts; at 24 h it does not.
    expect(await check('d', T0 + 24 * HOUR - 1)).toMatchObject({ action: 'delay', untilMs: T0 + 24 * HOUR });
    expect(await check('d', T0 + 24 * HOUR)).toEqual({ action: 'send' });
    // The window now holds b, c and d: the next slot opens when b leaves.
    expect(await check('e', T0 + 24 * HOUR)).toMatchObject({ action: 'delay', untilMs: T0 + 25 * HOUR });
  });

  it('skips a capped send whose journey said whenCapped: skip, with the reason', async () => {
    for (const op of ['a', 'b', 'c']) await check(op, T0);
    expect(await check('d', T0 + HOUR, { whenCapped: 'skip' })).toEqual({
      action: 'skip',
      reason: 'frequency cap marketing:3/24h reached (next slot at 2026-06-02T09:00:00.000Z)',
    });
  });

  it('caps each channel by its own rule, and says which rule held the send back', async () => {
    const sms = { channel: 'sms' as const, channels: ['sms' as const] };
    expect(await check('s1', T0, sms)).toEqual({ action: 'send' });
    const held = await check('s2', T0 + HOUR, sms);
    expect(held).toMatchObject({ action: 'delay', untilMs: T0 + 24 * HOUR });
    expect(held.action === 'delay' && held.reason).toContain('sms:1/1d');
    // The held SMS took no marketing slot: two emails still go.
    expect(await check('e1', T0 + HOUR)).toEqual({ action: 'send' });
    expect(await check('e2', T0 + HOUR)).toEqual({ action: 'send' });
    expect(await check('e3', T0 + HOUR)).toMatchObject({ action: 'delay' });
  });

  it('counts nothing for a send whose customer was erased while it was being decided', async () => {
    const keys = customerKeys(ctx.prefix, 'ada');
    // The erasure ended the operation and deleted the customer's keys after the send's worker read
    // it as open: the count would bring back a key naming the customer (the operation id does) for
    // the rule's window. The send goes on to its claim, which finds the operation ended.
    await endErasedOperations(ctx.redis, [keys.op('s-ada-welcome.1-1-0')], T0);
    expect(await check('s-ada-welcome.1-1-0', T0)).toEqual({ action: 'send' });
    expect(await ctx.redis.exists(keys.cap('marketing:3/24h'))).toBe(0);
  });

  it('counts a replayed send once: the same operation id is let through again without taking a slot', async () => {
    expect(await check('a', T0)).toEqual({ action: 'send' });
    expect(await check('a', T0 + 1)).toEqual({ action: 'send' });
    expect(await check('a', T0 + 2)).toEqual({ action: 'send' });
    const key = customerKeys(ctx.prefix, 'ada').cap('marketing:3/24h');
    expect(await ctx.redis.zrange(key, 0, -1)).toEqual(['a']);
    expect(await check('b', T0)).toEqual({ action: 'send' });
    expect(await check('c', T0)).toEqual({ action: 'send' });
  });

  it('asks the rules of a channel a send was rerouted to, though another channel counted its operation', async () => {
    const sms = { channel: 'sms' as const, channels: ['email' as const, 'sms' as const] };
    expect(await check('s1', T0, sms)).toEqual({ action: 'send' });
    // Let through on email (counted under marketing only), then handed on to SMS.
    expect(await check('a', T0 + HOUR)).toEqual({ action: 'send' });
    expect(await check('a', T0 + 2 * HOUR, sms)).toMatchObject({ action: 'delay', untilMs: T0 + 24 * HOUR });
  });

  it('is not held back by a rule that counts its own operation already', async () => {
    caps = frequencyCaps({
      redis: ctx.redis,
      prefix: ctx.prefix,
      rules: FrequencyCapRules.parse('marketing:1/24h,sms:1/1d'),
    });
    // Let through on email, filling marketing:1/24h itself; handed on to SMS before its slot was
    // given back: it holds the marketing slot, and SMS has room. It goes out on SMS an hour on,
    // so the marketing rule counts it from then.
    expect(await check('a', T0)).toEqual({ action: 'send' });
    const sms = { channel: 'sms' as const, channels: ['email' as const, 'sms' as const] };
    expect(await check('a', T0 + HOUR, sms)).toEqual({ action: 'send' });
    const marketing = customerKeys(ctx.prefix, 'ada').cap('marketing:1/24h');
    expect(await ctx.redis.zrange(marketing, 0, -1, 'WITHSCORES')).toEqual(['a', String(T0 + HOUR)]);
  });

  describe('a send let through whose provider asked to try again later', () => {
    const MINUTE = 60_000;
    const push = { channel: 'push' as const, channels: ['push' as const] };
    const pushCaps = (rules: string) => {
      caps = frequencyCaps({ redis: ctx.redis, prefix: ctx.prefix, rules: FrequencyCapRules.parse(rules) });
    };

    it('counts from when its retry goes out, not from its first attempt', async () => {
      pushCaps('push:1/1h');
      expect(await check('a', T0, push)).toEqual({ action: 'send' });
      // The provider answered "retry after 45 minutes": the push reaches the customer at 45 min.
      expect(await check('a', T0 + 45 * MINUTE, push)).toEqual({ action: 'send' });
      expect(await check('b', T0 + 61 * MINUTE, push)).toMatchObject({
        action: 'delay',
        untilMs: T0 + 105 * MINUTE,
      });
    });

    it('is counted afresh when its retry comes after its slot left the window', async () => {
      pushCaps('push:2/1h');
      expect(await check('a', T0, push)).toEqual({ action: 'send' });
      expect(await check('b', T0 + 30 * MINUTE, push)).toEqual({ action: 'send' });
      // A's retry goes out at 65 min, when its first slot (at 0) has left the window.
      expect(await check('a', T0 + 65 * MINUTE, push)).toEqual({ action: 'send' });
      // B (30 min) and A (65 min) fill the hour: C waits until B leaves it.
      expect(await check('c', T0 + 66 * MINUTE, push)).toMatchObject({
        action: 'delay',
        untilMs: T0 + 90 * MINUTE,
      });
    });

    it('waits like any other send when its retry finds the window full', async () => {
      pushCaps('push:1/1h');
      expect(await check('a', T0, push)).toEqual({ action: 'send' });
      expect(await check('b', T0 + 61 * MINUTE, push)).toEqual({ action: 'send' });
      expect(await check('a', T0 + 62 * MINUTE, push)).toMatchObject({
        action: 'delay',
        untilMs: T0 + 121 * MINUTE,
      });
    });
  });

  it('never lets concurrent workers exceed the cap', async () => {
    const decisions = await Promise.all(Array.from({ length: 20 }, (_, i) => check(`op-${i}`, T0 + i)));
    expect(decisions.filter((d) => d.action === 'send')).toHaveLength(3);
    expect(decisions.filter((d) => d.action === 'delay')).toHaveLength(17);
    const key = customerKeys(ctx.prefix, 'ada').cap('marketing:3/24h');
    expect(await ctx.redis.zcard(key)).toBe(3);
  });

  it('counts each customer apart, and forgets a window once it has passed', async () => {
    for (const op of ['a', 'b', 'c']) await check(op, T0);
    expect(await check('x', T0, { customerId: 'bo' })).toEqual({ action: 'send' });
    const key = customerKeys(ctx.prefix, 'ada').cap('marketing:3/24h');
    const ttl = await ctx.redis.pttl(key);
    expect(ttl).toBeGreaterThan(23 * HOUR);
    expect(ttl).toBeLessThanOrEqual(24 * HOUR);
  });

  it('leaves transactional sends alone unless a rule names them', async () => {
    for (const op of ['a', 'b', 'c']) await check(op, T0);
    const receipt = sendJob({ opId: 'r' });
    expect(
      await caps.check({ job: receipt, channel: 'email', traits: {}, now: T0, topic: 'transactional' }),
    ).toEqual({
      action: 'send',
    });
  });

  it('counts in-app messages and webhooks only under a rule that names them, as they reach no one unasked', async () => {
    for (const op of ['a', 'b', 'c']) await check(op, T0);
    for (const channel of ['in-app', 'webhook'] as const) {
      const send = sendJob({ opId: `x-${channel}`, channel, channels: [channel] });
      expect(await caps.check({ job: send, channel, traits: {}, now: T0 })).toEqual({ action: 'send' });
    }
    const named = frequencyCaps({
      redis: ctx.redis,
      prefix: ctx.prefix,
      rules: FrequencyCapRules.parse('in-app:1/1d'),
    });
    const inApp = (opId: string) => {
      const send = sendJob({ opId, channel: 'in-app', channels: ['in-app'] });
      return named.check({ job: send, channel: 'in-app', traits: {}, now: T0 });
    };
    expect(await inApp('y1')).toEqual({ action: 'send' });
    expect(await inApp('y2')).toMatchObject({ action: 'delay' });
  });
});

describe('FREQUENCY_CAPS rules', () => {
  it('reads topics, channels and topic.channel scopes with any duration', () => {
    expect(FrequencyCapRules.parse('marketing:3/24h, sms:1/1d,marketing.push:2/P1W')).toEqual([
      { topic: 'marketing', max: 3, windowMs: 86_400_000, label: 'marketing:3/24h' },
      { channel: 'sms', max: 1, windowMs: 86_400_000, label: 'sms:1/1d' },
      { topic: 'marketing', channel: 'push', max: 2, windowMs: 604_800_000, label: 'marketing.push:2/P1W' },
    ]);
    expect(FrequencyCapRules.parse('')).toEqual([]);
  });

  it('refuses what it cannot read, saying why', () => {
    const issue = (text: string) => FrequencyCapRules.safeParse(text).error?.issues[0]?.message;
    expect(issue('fax:1/1d')).toContain('not a scope');
    expect(issue('sms.marketing:1/1d')).toContain('not a scope');
    expect(issue('marketing:0/1d')).toContain('at least 1');
    expect(issue('marketing:3/2days')).toContain('cannot read "2days"');
    expect(issue('marketing:3')).toContain('<scope>:<max>/<duration>');
    expect(issue('marketing:3/24h, sms:1/1d, marketing:3/24h')).toBe(
      '"marketing:3/24h" is given twice: write each rule once',
    );
  });

  it('names FREQUENCY_CAPS when a rule is given twice, instead of failing later at start-up', () => {
    expect(() => loadConfig({ FREQUENCY_CAPS: 'marketing:3/24h,marketing:3/24h' })).toThrow(
      /FREQUENCY_CAPS: "marketing:3\/24h" is given twice/,
    );
  });

  it('refuses two rules with one label when built in code, saying so', () => {
    const rule = { topic: 'marketing' as const, max: 1, windowMs: 1000, label: 'm' };
    expect(() => frequencyCaps({ redis: undefined as never, prefix: 'p', rules: [rule, rule] })).toThrow(
      new PolicyConfigError(
        'rules',
        'frequency cap "m": another rule has its label, which keys its count. To fix: correct that rule, or give it once.',
      ),
    );
  });
});
