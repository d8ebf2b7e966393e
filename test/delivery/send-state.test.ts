import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { customerKeys, SuppressionList, suppressionRule, type PolicyInput } from '../../engine/index.js';
import { readSendState } from '../../engine/delivery/send-state.js';
import { normaliseAddress, suppressionListKey } from '../../engine/policy/suppression-list.js';
import { nudgeJob as job } from '../support/policy.js';
import { ON_CLUSTER, testRedis } from '../support/redis.js';

const AT = Date.parse('2026-12-06T09:00:00Z');

describe('what a send reads before deciding', () => {
  let ctx: ReturnType<typeof testRedis>;
  let list: SuppressionList;
  beforeEach(() => {
    ctx = testRedis();
    list = new SuppressionList(ctx.redis, ctx.prefix);
  });
  afterEach(() => ctx.cleanup());

  const keys = () => customerKeys(ctx.prefix, 'u1');
  const withTraits = (traits: Record<string, unknown>) =>
    ctx.redis.hset(keys().state, 'profile', JSON.stringify(traits));
  const read = (channel: 'email' | 'sms' | 'push') =>
    readSendState(ctx.redis, keys(), {
      opId: 'op-1',
      instanceId: 'welcome.1',
      channel,
      topic: 'marketing',
      suppressionKey: suppressionListKey(ctx.prefix),
    });

  it.skipIf(ON_CLUSTER)(
    'reads the suppression list for the address the traits give, normalised as the list writes it',
    async () => {
      await withTraits({ email: '  Ada@Example.COM ', phone: '+44 (7700) 900-123' });
      await list.add(
        { kind: 'email', value: 'ada@example.com' },
        { reason: 'complaint', at: AT, source: 'ses' },
      );
      await list.add(
        { kind: 'phone', value: '+447700900123' },
        { reason: 'hard-bounce', at: AT, source: 'twilio' },
      );

      const email = await read('email');
      expect(email.suppression).toEqual({
        list: suppressionListKey(ctx.prefix),
        address: normaliseAddress({ kind: 'email', value: 'Ada@Example.COM' }),
        entries: [{ reason: 'complaint', at: AT, source: 'ses' }],
      });
      const sms = await read('sms');
      expect(sms.suppression).toEqual({
        list: suppressionListKey(ctx.prefix),
        address: normaliseAddress({ kind: 'phone', value: '+44 (7700) 900-123' }),
        entries: [{ reason: 'hard-bounce', at: AT, source: 'twilio' }],
      });
      expect((await read('push')).suppression).toBeUndefined();
      await withTraits({ pushToken: ' fcm:token-1 ' });
      await list.add(
        { kind: 'push', value: 'fcm:token-1' },
        { reason: 'hard-bounce', at: AT, source: 'fcm' },
      );
      expect((await read('push')).suppression).toEqual({
        list: suppressionListKey(ctx.prefix),
        address: normaliseAddress({ kind: 'push', value: ' fcm:token-1 ' }),
        entries: [{ reason: 'hard-bounce', at: AT, source: 'fcm' }],
      });

      // An address Lua cannot normalise as JavaScript does is left to the rule.
      await withTraits({ email: 'ÅSA@example.com' });
      expect((await read('email')).suppression).toBeUndefined();
      await withTraits({ email: 42 });
      expect((await read('email')).suppression).toBeUndefined();
      // An international domain in its ASCII form: entries stored before may be under its Unicode
      // form, which only the list's own check reads (legacyKeys).
      await withTraits({ email: 'ada@XN--bcher-kva.de' });
      expect((await read('email')).suppression).toBeUndefined();
    },
  );

  it('leaves the list to the rule when not given its key, as on a Redis Cluster', async () => {
    await withTraits({ email: 'ada@example.com' });
    const state = await readSendState(ctx.redis, keys(), {
      opId: 'op-1',
      instanceId: 'welcome.1',
      channel: 'email',
      topic: 'marketing',
    });
    expect(state.traits).toEqual({ email: 'ada@example.com' });
    expect(state.suppression).toBeUndefined();
    expect(state.instance).toBeUndefined();
  });

  it('reads the instance that made the send once it has ended, and not while it is active', async () => {
    // Without the suppression list's key, which shares no slot with the customer's on a Cluster.
    const instance = async () =>
      (
        await readSendState(ctx.redis, keys(), {
          opId: 'op-1',
          instanceId: 'welcome.1',
          channel: 'email',
          topic: 'marketing',
        })
      ).instance;
    const active = { id: 'welcome.1', status: 'active', rev: 2 };
    await ctx.redis.hset(keys().state, 'i:welcome.1', JSON.stringify(active));
    expect(await instance()).toBeUndefined();
    const record = { id: 'welcome.1', status: 'done', exitReason: 'goal', rev: 3 };
    await ctx.redis.hset(keys().state, 'i:welcome.1', JSON.stringify(record));
    expect(await instance()).toEqual(record);
  });

  it('reads the active instance once it has converted, for a send cancelled on the goal only', async () => {
    // Without the suppression list's key, which shares no slot with the customer's on a Cluster.
    const instance = async (cancelOnGoal: boolean) =>
      (
        await readSendState(ctx.redis, keys(), {
          opId: 'op-1',
          instanceId: 'welcome.1',
          cancelOnGoal,
          channel: 'email',
          topic: 'marketing',
        })
      ).instance;
    await withTraits({ email: 'ada@example.com' });
    const active = { id: 'welcome.1', status: 'active', rev: 2 };
    await ctx.redis.hset(keys().state, 'i:welcome.1', JSON.stringify(active));
    expect(await instance(true)).toBeUndefined();
    const converted = { ...active, convertedAt: AT, convertedAtRev: 2 };
    await ctx.redis.hset(keys().state, 'i:welcome.1', JSON.stringify(converted));
    expect(await instance(false)).toBeUndefined();
    expect(await instance(true)).toEqual(converted);
    // A record that converted before its revision was kept is read too.
    const older = { ...active, convertedAt: AT };
    await ctx.redis.hset(keys().state, 'i:welcome.1', JSON.stringify(older));
    expect(await instance(true)).toEqual(older);
    if (ON_CLUSTER) return;
    // The suppression list read beside it still answers for the address.
    await list.add(
      { kind: 'email', value: 'ada@example.com' },
      { reason: 'unsubscribe', at: AT, source: 'link' },
    );
    const state = await readSendState(ctx.redis, keys(), {
      opId: 'op-1',
      instanceId: 'welcome.1',
      cancelOnGoal: true,
      channel: 'email',
      topic: 'marketing',
      suppressionKey: suppressionListKey(ctx.prefix),
    });
    expect(state.instance).toEqual(older);
    expect(state.suppression?.entries).toEqual([{ reason: 'unsubscribe', at: AT, source: 'link' }]);
  });

  it('has the rule use what was read ahead only for the list and address it checks', async () => {
    const rule = suppressionRule(list);
    await list.add(
      { kind: 'email', value: 'ada@example.com' },
      { reason: 'unsubscribe', at: AT, source: 'link' },
    );
    const input = (suppression: PolicyInput['suppression']): PolicyInput => ({
      job,
      channel: 'email',
      traits: {},
      now: AT,
      topic: 'marketing',
      address: { email: 'Ada@example.com' },
      ...(suppression ? { suppression } : {}),
    });
    const ahead = { list: list.key, address: 'email:ada@example.com', entries: [] };
    // Read ahead for this list and address: what it says decides, without asking the list again.
    expect(await rule.check(input(ahead))).toEqual({ action: 'send' });
    // Read ahead for another address (the traits changed in between), or of another list: the
    // list is read now.
    expect(await rule.check(input({ ...ahead, address: 'email:bob@example.com' }))).toMatchObject({
      action: 'reroute',
    });
    expect(await rule.check(input({ ...ahead, list: `${list.key}-other` }))).toMatchObject({
      action: 'reroute',
    });
    expect(await rule.check(input(undefined))).toMatchObject({ action: 'reroute' });
  });
});
