import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  ConsentStore,
  consentRule,
  createDefaultPolicy,
  createEngine,
  DoubleOptInNotConfiguredError,
  FakeClock,
  SuppressionList,
  suppressionRule,
  type Channel,
  type PolicyInput,
  type Topic,
} from '../../engine/index.js';
import { nudgeJob as job } from '../support/policy.js';
import { suppressionListKey } from '../../engine/policy/suppression-list.js';
import { testRedis } from '../support/redis.js';

describe('the consent and suppression rules', () => {
  let ctx: ReturnType<typeof testRedis>;
  let consent: ConsentStore;
  let suppressions: SuppressionList;
  let clock: FakeClock;

  beforeEach(() => {
    clock = new FakeClock(Date.parse('2026-11-23T10:00:00Z'));
    ctx = testRedis();
    consent = new ConsentStore(ctx.redis, ctx.prefix);
    suppressions = new SuppressionList(ctx.redis, ctx.prefix);
  });
  afterEach(() => ctx.cleanup());

  const send = (channel: Channel, topic: Topic, extra: Partial<PolicyInput> = {}): PolicyInput => ({
    job,
    channel,
    traits: {},
    now: clock.now(),
    topic,
    address:
      channel === 'email'
        ? { email: 'Ada@Example.com' }
        : channel === 'sms'
          ? { phone: '+44 7700 900123' }
          : {},
    ...extra,
  });
  const record = (channel: 'email' | 'sms', topic: Topic, state: 'granted' | 'denied' | 'pending') =>
    consent.set('u1', { channel, topic, state, at: clock.now(), source: 'signup form', textVersion: 'v3' });

  it('reroutes marketing email the customer refused, saying when and where, and sends it once granted again', async () => {
    const rule = consentRule({ store: consent, doubleOptIn: false });
    expect(await rule.check(send('email', 'marketing'))).toEqual({ action: 'send' });
    await record('email', 'marketing', 'denied');
    expect(await rule.check(send('email', 'marketing'))).toEqual({
      action: 'reroute',
      reason: 'email marketing consent was refused at 2026-11-23T10:00:00.000Z (signup form)',
    });
    clock.advance('1h');
    await record('email', 'marketing', 'granted');
    expect(await rule.check(send('email', 'marketing'))).toEqual({ action: 'send' });
    expect((await consent.history('u1')).map((r) => [r.state, new Date(r.at).toISOString()])).toEqual([
      ['granted', '2026-11-23T11:00:00.000Z'],
      ['denied', '2026-11-23T10:00:00.000Z'],
    ]);
  });

  it('needs an explicit grant for SMS marketing, and a confirmed one for email marketing under double opt-in', async () => {
    const rule = consentRule({ store: consent, doubleOptIn: true });
    expect(await rule.check(send('sms', 'marketing'))).toMatchObject({
      action: 'reroute',
      reason: 'no sms marketing consent on record: SMS marketing needs an explicit grant',
    });
    expect(await rule.check(send('email', 'marketing'))).toMatchObject({ action: 'reroute' });
    await record('email', 'marketing', 'pending');
    expect(await rule.check(send('email', 'marketing'))).toMatchObject({
      action: 'reroute',
      reason: expect.stringContaining('awaits double opt-in confirmation'),
    });
    await record('sms', 'marketing', 'granted');
    await record('email', 'marketing', 'granted');
    expect(await rule.check(send('sms', 'marketing'))).toEqual({ action: 'send' });
    expect(await rule.check(send('email', 'marketing'))).toEqual({ action: 'send' });
  });

  it('lets transactional messages past a marketing refusal but not past a transactional one; webhooks are not asked', async () => {
    const rule = consentRule({ store: consent, doubleOptIn: true });
    await record('sms', 'marketing', 'denied');
    expect(await rule.check(send('sms', 'transactional'))).toEqual({ action: 'send' });
    await record('sms', 'transactional', 'denied');
    expect(await rule.check(send('sms', 'transactional'))).toMatchObject({ action: 'reroute' });
    expect(await rule.check(send('webhook', 'marketing'))).toEqual({ action: 'send' });
  });

  it('still honours the unsubscribe trait of earlier versions when no record was made since', async () => {
    const rule = consentRule({ store: consent, doubleOptIn: false });
    const legacy = send('email', 'marketing', { traits: { emailUnsubscribedAt: '2026-01-01T00:00:00Z' } });
    expect(await rule.check(legacy)).toMatchObject({
      action: 'reroute',
      reason: expect.stringContaining('2026-01-01'),
    });
    await record('email', 'marketing', 'granted');
    expect(await rule.check(legacy)).toEqual({ action: 'send' });
  });

  it('stops marketing to an unsubscribed or complaining address, whatever its case, but lets transactional through', async () => {
    const rule = suppressionRule(suppressions);
    await suppressions.add(
      { kind: 'email', value: ' ada@example.COM ' },
      { reason: 'unsubscribe', at: clock.now(), source: 'one-click unsubscribe' },
    );
    expect(await rule.check(send('email', 'marketing'))).toEqual({
      action: 'reroute',
      reason:
        'the email address is suppressed (unsubscribe at 2026-11-23T10:00:00.000Z, one-click unsubscribe)',
    });
    expect(await rule.check(send('email', 'transactional'))).toEqual({ action: 'send' });
    await suppressions.add(
      { kind: 'phone', value: '+447700900123' },
      { reason: 'complaint', at: clock.now(), source: 'twilio' },
    );
    expect(await rule.check(send('sms', 'marketing'))).toMatchObject({
      action: 'reroute',
      reason: expect.stringContaining('phone number is suppressed (complaint'),
    });
    expect(await rule.check(send('sms', 'transactional'))).toEqual({ action: 'send' });
  });

  it('lets an entry with an end stop sends until then only', async () => {
    const rule = suppressionRule(suppressions);
    await suppressions.add(
      { kind: 'phone', value: '+447700900123' },
      { reason: 'unsubscribe', at: clock.now(), source: 'twilio: 21610', until: clock.now() + 86_400_000 },
    );
    expect(await rule.check(send('sms', 'marketing'))).toMatchObject({ action: 'reroute' });
    clock.advance('1d');
    expect(await rule.check(send('sms', 'marketing'))).toEqual({ action: 'send' });
  });

  it('stops every message to a hard-bounced address, transactional included, until it is lifted', async () => {
    const rule = suppressionRule(suppressions);
    const address = { kind: 'email', value: 'ada@example.com' } as const;
    await suppressions.add(address, { reason: 'hard-bounce', at: clock.now(), source: 'ses' });
    expect(await rule.check(send('email', 'transactional'))).toMatchObject({
      action: 'reroute',
      reason: expect.stringContaining('hard-bounce'),
    });
    expect(await rule.check(send('push', 'marketing'))).toEqual({ action: 'send' });
    expect(await suppressions.remove(address)).toBe(1);
    expect(await rule.check(send('email', 'transactional'))).toEqual({ action: 'send' });
  });

  it('takes an international domain reported in its ASCII form as the same address, and still reads entries stored before', async () => {
    const rule = suppressionRule(suppressions);
    const unicode = send('email', 'transactional', { address: { email: 'Ada@Bücher.de' } });
    // nodemailer sends to bücher.de as xn--bcher-kva.de, and the provider's bounce names that form.
    await suppressions.add(
      { kind: 'email', value: 'ada@xn--bcher-kva.de' },
      { reason: 'hard-bounce', at: clock.now(), source: 'ses' },
    );
    expect(await rule.check(unicode)).toMatchObject({
      action: 'reroute',
      reason: expect.stringContaining('hard-bounce'),
    });
    expect(await suppressions.check({ kind: 'email', value: 'ada@bücher.de' })).toHaveLength(1);
    // An unsubscribe stored before, under the domain as the customer wrote it, still holds and lifts.
    await ctx.redis.hset(
      suppressionListKey(ctx.prefix),
      'email:ada@bücher.de|unsubscribe',
      JSON.stringify({ reason: 'unsubscribe', at: clock.now(), source: 'one-click unsubscribe' }),
    );
    expect(
      (await suppressions.check({ kind: 'email', value: 'ada@xn--bcher-kva.de' }))
        .map((e) => e.reason)
        .sort(),
    ).toEqual(['hard-bounce', 'unsubscribe']);
    expect(await suppressions.remove({ kind: 'email', value: 'ADA@bücher.de' })).toBe(2);
    expect(await ctx.redis.hlen(suppressionListKey(ctx.prefix))).toBe(0);
    expect(await rule.check(unicode)).toEqual({ action: 'send' });
  });

  it('puts suppression before consent in the default chain, and names the rule that decided', async () => {
    const policy = createDefaultPolicy({ redis: ctx.redis, prefix: ctx.prefix });
    await suppressions.add(
      { kind: 'email', value: 'ada@example.com' },
      { reason: 'hard-bounce', at: clock.now(), source: 'ses' },
    );
    await record('email', 'transactional', 'denied');
    expect(await policy.check(send('email', 'transactional'))).toMatchObject({
      action: 'reroute',
      rule: 'suppression',
    });
    expect(await policy.check(send('sms', 'marketing'))).toMatchObject({
      action: 'reroute',
      rule: 'consent',
    });
    const timed = createDefaultPolicy({
      redis: ctx.redis,
      prefix: ctx.prefix,
      timing: [
        {
          name: 'quiet-hours',
          policy: { check: async ({ now }) => ({ action: 'delay', untilMs: now + 1, reason: 'night' }) },
        },
      ],
    });
    expect(await timed.check(send('push', 'marketing'))).toMatchObject({
      action: 'delay',
      rule: 'quiet-hours',
    });
    expect(await timed.check(send('sms', 'marketing'))).toMatchObject({ action: 'reroute', rule: 'consent' });
  });

  it('refuses to start with double opt-in but no way to sign its links', async () => {
    const make = (consent: Parameters<typeof createEngine>[0]['consent']) =>
      createEngine({
        redis: ctx.redis,
        prefix: ctx.prefix,
        journeys: [],
        messages: { has: () => false },
        consent,
      });
    expect(() => make({ doubleOptIn: true })).toThrow(DoubleOptInNotConfiguredError);
    const engine = make({
      doubleOptIn: true,
      confirmLink: { baseUrl: 'https://x.test', secret: 's'.repeat(16) },
    });
    expect(engine.consent).toBeDefined();
    await engine.close();
  });
});
