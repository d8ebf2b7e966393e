import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FakeClock } from '../../engine/clock.js';
import { endErasedOperations } from '../../engine/delivery/delivery-ledger.js';
import { customerKeys } from '../../engine/store/customer-keys.js';
import {
  createInAppAdapter,
  dismissInAppMessage,
  inAppKeys,
  markInAppRead,
  readInAppInbox,
} from '../../engine/channels/in-app-adapter.js';
import { testRedis } from '../support/redis.js';
import { deliveryFor } from './support.js';

describe('the in-app adapter on a real Redis', () => {
  let ctx: ReturnType<typeof testRedis>;
  const clock = new FakeClock(Date.parse('2026-03-01T12:00:00Z'));

  beforeEach(() => {
    ctx = testRedis();
  });
  afterEach(async () => {
    await ctx.cleanup();
  });

  it("stores the message in the customer's inbox, readable newest first", async () => {
    const inApp = createInAppAdapter({ redis: ctx.redis, prefix: ctx.prefix, clock });
    const first = deliveryFor('in-app', { opId: 'op-1' });
    const second = deliveryFor('in-app', { opId: 'op-2', message: 'invite-team' });

    expect(await inApp.send(first)).toEqual({ status: 'sent', providerId: 'op-1' });
    await inApp.send(second);

    expect(await readInAppInbox(ctx.redis, ctx.prefix, 'ada')).toEqual([
      expect.objectContaining({ id: 'op-2', message: 'invite-team' }),
      {
        id: 'op-1',
        title: 'Workspace ready',
        body: 'Invite your team',
        cta: { label: 'Invite', url: 'https://acme.example/invite' },
        journey: 'onboarding',
        message: 'welcome',
        createdAt: clock.now(),
        expiresAt: clock.now() + 30 * 86_400_000,
        readAt: null,
      },
    ]);
    expect(await readInAppInbox(ctx.redis, ctx.prefix, 'grace')).toEqual([]);
    expect(await readInAppInbox(ctx.redis, ctx.prefix, 'ada', 1)).toHaveLength(1);
    expect(await readInAppInbox(ctx.redis, ctx.prefix, 'ada', 0)).toEqual([]);
  });

  it('leaves a message out of the inbox once it has expired, 30 days after it was stored unless told otherwise', async () => {
    // A card offering "10% off this week" was still shown months later: in-app messages never expired.
    const start = new FakeClock(Date.parse('2026-03-01T12:00:00Z'));
    const month = createInAppAdapter({ redis: ctx.redis, prefix: ctx.prefix, clock: start });
    const day = createInAppAdapter({ redis: ctx.redis, prefix: ctx.prefix, clock: start, ttlMs: 86_400_000 });
    await month.send(deliveryFor('in-app', { opId: 'op-1' }));
    await day.send(deliveryFor('in-app', { opId: 'op-2' }));
    const ids = async (limit?: number) =>
      (await readInAppInbox(ctx.redis, ctx.prefix, 'ada', limit, start.now())).map((m) => m.id);

    start.advance('1d');
    // Expiry ends at its instant, and a limit counts the messages still shown.
    expect(await ids()).toEqual(['op-1']);
    expect(await ids(1)).toEqual(['op-1']);
    start.advance('29d');
    expect(await ids()).toEqual([]);
    // Without a time, everything kept is read: a customer's export lists it all.
    expect((await readInAppInbox(ctx.redis, ctx.prefix, 'ada')).map((m) => m.id)).toEqual(['op-2', 'op-1']);
  });

  it('lets Redis drop an inbox once its newest message has expired, not keep it for good', async () => {
    // A customer who stopped coming back kept every card they were ever sent, months past the
    // time any of them was shown: expired messages were only left out, never deleted.
    const keys = inAppKeys(ctx.prefix, 'ada');
    const ttls = async () => Promise.all([ctx.redis.pttl(keys.items), ctx.redis.pttl(keys.order)]);
    const day = createInAppAdapter({ redis: ctx.redis, prefix: ctx.prefix, clock, ttlMs: 86_400_000 });
    await day.send(deliveryFor('in-app', { opId: 'op-1' }));
    for (const ttl of await ttls()) expect(ttl).toBeGreaterThan(86_400_000 - 60_000);
    for (const ttl of await ttls()) expect(ttl).toBeLessThanOrEqual(86_400_000);

    // A message shown longer keeps the inbox longer; one shown for less never shortens it.
    const week = createInAppAdapter({ redis: ctx.redis, prefix: ctx.prefix, clock, ttlMs: 7 * 86_400_000 });
    await week.send(deliveryFor('in-app', { opId: 'op-2' }));
    const hour = createInAppAdapter({ redis: ctx.redis, prefix: ctx.prefix, clock, ttlMs: 3_600_000 });
    await hour.send(deliveryFor('in-app', { opId: 'op-3' }));
    for (const ttl of await ttls()) expect(ttl).toBeGreaterThan(7 * 86_400_000 - 60_000);

    // Reading, marking read and dismissing leave it as it was.
    await markInAppRead(ctx.redis, ctx.prefix, 'ada', 'op-2', clock.now());
    await dismissInAppMessage(ctx.redis, ctx.prefix, 'ada', 'op-3', clock.now());
    for (const ttl of await ttls()) expect(ttl).toBeGreaterThan(7 * 86_400_000 - 60_000);
  });

  it('reads past a run of expired messages in a few round trips, whatever the limit', async () => {
    // An app asking for its newest card (limit=1) past a hundred expired ones cost a round trip
    // per expired message: the inbox was read one id at a time.
    const start = new FakeClock(Date.parse('2026-03-01T12:00:00Z'));
    const month = createInAppAdapter({ redis: ctx.redis, prefix: ctx.prefix, clock: start });
    const hour = createInAppAdapter({ redis: ctx.redis, prefix: ctx.prefix, clock: start, ttlMs: 3_600_000 });
    await month.send(deliveryFor('in-app', { opId: 'op-kept' }));
    for (let i = 0; i < 99; i++) await hour.send(deliveryFor('in-app', { opId: `op-${i}` }));
    start.advance('2h');
    let reads = 0;
    const counted = new Proxy(ctx.redis, {
      get(target, name, receiver) {
        if (name === 'lrange' || name === 'hmget') reads += 1;
        const value: unknown = Reflect.get(target, name, receiver);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });

    const inbox = await readInAppInbox(counted, ctx.prefix, 'ada', 1, start.now());

    expect(inbox.map((m) => m.id)).toEqual(['op-kept']);
    expect(reads).toBeLessThanOrEqual(16);
  });

  it('refuses a time to live that is not a positive number of milliseconds, naming the option', () => {
    for (const ttlMs of [0, -1, Number.NaN, Number.POSITIVE_INFINITY]) {
      expect(() => createInAppAdapter({ redis: ctx.redis, prefix: ctx.prefix, ttlMs })).toThrow(
        expect.objectContaining({ code: 'CHORUS_CHANNEL_CONFIG_INVALID', option: 'ttlMs' }),
      );
    }
  });

  it('drops a dismissed message from the inbox for good, even when its send is repeated', async () => {
    const inApp = createInAppAdapter({ redis: ctx.redis, prefix: ctx.prefix, clock });
    await inApp.send(deliveryFor('in-app', { opId: 'op-1' }));
    await inApp.send(deliveryFor('in-app', { opId: 'op-2' }));

    expect(await dismissInAppMessage(ctx.redis, ctx.prefix, 'ada', 'op-1', clock.now())).toBe(true);
    expect(await dismissInAppMessage(ctx.redis, ctx.prefix, 'ada', 'op-1', clock.now())).toBe(false);
    expect(await dismissInAppMessage(ctx.redis, ctx.prefix, 'ada', 'nope', clock.now())).toBe(false);
    // A run that died after storing it sends it again (in-app is idempotent): it must not come back.
    expect(await inApp.send(deliveryFor('in-app', { opId: 'op-1' }))).toMatchObject({ status: 'sent' });
    const ids = async (now?: number) =>
      (await readInAppInbox(ctx.redis, ctx.prefix, 'ada', 100, now)).map((m) => m.id);
    expect(await ids(clock.now())).toEqual(['op-2']);
    expect(await ids()).toEqual(['op-2']);
    expect(await readInAppInbox(ctx.redis, ctx.prefix, 'ada', 1, clock.now())).toHaveLength(1);
    expect(await markInAppRead(ctx.redis, ctx.prefix, 'ada', 'op-1', clock.now())).toBe(false);
  });

  it('stores a retried send once', async () => {
    const inApp = createInAppAdapter({ redis: ctx.redis, prefix: ctx.prefix, clock });
    const delivery = deliveryFor('in-app');

    await inApp.send(delivery);
    expect(await inApp.send(delivery)).toEqual({
      status: 'sent',
      providerId: delivery.opId,
      detail: 'already in the inbox',
    });
    expect(await readInAppInbox(ctx.redis, ctx.prefix, 'ada')).toHaveLength(1);
  });

  it('keeps only the newest messages beyond the cap, in both keys', async () => {
    const inApp = createInAppAdapter({ redis: ctx.redis, prefix: ctx.prefix, maxMessages: 3, clock });
    for (let i = 1; i <= 5; i += 1) await inApp.send(deliveryFor('in-app', { opId: `op-${i}` }));

    const inbox = await readInAppInbox(ctx.redis, ctx.prefix, 'ada');
    expect(inbox.map((message) => message.id)).toEqual(['op-5', 'op-4', 'op-3']);
    expect(await ctx.redis.hlen(inAppKeys(ctx.prefix, 'ada').items)).toBe(3);
  });

  it('stores nothing for a send whose customer was erased while it was being sent', async () => {
    const inApp = createInAppAdapter({ redis: ctx.redis, prefix: ctx.prefix, clock });
    const delivery = deliveryFor('in-app', { opId: 'op-1' });
    // The erasure ended the running send's operation, then deleted the customer's keys.
    await endErasedOperations(ctx.redis, [customerKeys(ctx.prefix, 'ada').op('op-1')], clock.now());

    expect(await inApp.send(delivery)).toEqual({
      status: 'failed',
      reason: expect.stringMatching(/customer ada was erased .*nothing was stored/),
    });
    // The erased customer's inbox does not come back with the message.
    const keys = inAppKeys(ctx.prefix, 'ada');
    expect(await ctx.redis.exists(keys.items, keys.order)).toBe(0);
  });

  it("keeps a customer's inbox keys in the customer's hash tag", () => {
    expect(inAppKeys('chorus', 'bob vip')).toEqual({
      items: 'chorus:c:{bob%20vip}:inapp',
      order: 'chorus:c:{bob%20vip}:inapp:order',
    });
  });

  it('marks a message read once, keeping the first time, and answers false for an unknown id', async () => {
    const inApp = createInAppAdapter({ redis: ctx.redis, prefix: ctx.prefix, clock });
    await inApp.send(deliveryFor('in-app', { opId: 'op-1' }));
    const readAt = clock.now() + 60_000;

    expect(await markInAppRead(ctx.redis, ctx.prefix, 'ada', 'op-1', readAt)).toBe(true);
    expect(await markInAppRead(ctx.redis, ctx.prefix, 'ada', 'op-1', readAt + 1)).toBe(true);
    expect(await markInAppRead(ctx.redis, ctx.prefix, 'ada', 'op-9', readAt)).toBe(false);

    const [message] = await readInAppInbox(ctx.redis, ctx.prefix, 'ada');
    expect(message).toMatchObject({ id: 'op-1', readAt, title: 'Workspace ready' });
  });

  it('marks read a message whose text contains the words readAt and null', async () => {
    const inApp = createInAppAdapter({ redis: ctx.redis, prefix: ctx.prefix, clock });
    const rendered = {
      channel: 'in-app' as const,
      title: 'x',
      body: '"readAt":null}',
      cta: { label: 'a', url: 'b' },
    };
    await inApp.send(deliveryFor('in-app', { opId: 'op-1', rendered }));

    await markInAppRead(ctx.redis, ctx.prefix, 'ada', 'op-1', 5);
    expect(await readInAppInbox(ctx.redis, ctx.prefix, 'ada')).toEqual([
      expect.objectContaining({ body: '"readAt":null}', readAt: 5 }),
    ]);
  });
});
