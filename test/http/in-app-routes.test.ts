import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createChannelAdapters, createInAppAdapter, readInAppInbox } from '../../engine/index.js';
import { inAppKeys } from '../../engine/channels/in-app-adapter.js';
import { sendOpId } from '../../engine/runtime/ids.js';
import { onboarding } from '../fixtures/journeys/onboarding.js';
import { deliveryFor } from '../channels/support.js';
import { httpHarness, type HttpHarness } from '../support/http.js';

describe('the in-app inbox over HTTP', () => {
  let h: HttpHarness;
  beforeEach(async () => {
    h = await httpHarness({ journeys: [onboarding], workers: false });
  });
  afterEach(() => h.close());

  it('lists a customer’s in-app messages and marks one read', async () => {
    const inApp = createInAppAdapter({ redis: h.redis, prefix: h.prefix, clock: h.clock });
    await inApp.send(deliveryFor('in-app', { opId: 'op-1' }));
    await inApp.send(deliveryFor('in-app', { opId: 'op-2' }));
    const list = await h.app.inject({ url: '/v1/customers/ada/in-app?limit=10', headers: h.auth });
    expect(list.statusCode).toBe(200);
    expect(
      list
        .json<{ messages: Array<{ id: string; readAt: number | null }> }>()
        .messages.map((m) => [m.id, m.readAt]),
    ).toEqual([
      ['op-2', null],
      ['op-1', null],
    ]);
    const read = await h.app.inject({
      method: 'POST',
      url: '/v1/customers/ada/in-app/op-1/read',
      headers: h.auth,
    });
    expect(read.json()).toEqual({ read: true });
    const after = await h.app.inject({ url: '/v1/customers/ada/in-app', headers: h.auth });
    expect(after.json<{ messages: Array<{ id: string; readAt: number | null }> }>().messages[1]?.readAt).toBe(
      h.clock.now(),
    );
    const missing = await h.app.inject({
      method: 'POST',
      url: '/v1/customers/ada/in-app/nope/read',
      headers: h.auth,
    });
    expect(missing.statusCode).toBe(404);
    const badLimit = await h.app.inject({ url: '/v1/customers/ada/in-app?limit=0', headers: h.auth });
    expect(badLimit.json()).toMatchObject({ error: { issues: [{ field: 'querystring.limit' }] } });
  });

  it('lists the other messages when one stored is damaged, in the inbox and the export', async () => {
    const inApp = createInAppAdapter({ redis: h.redis, prefix: h.prefix, clock: h.clock });
    await inApp.send(deliveryFor('in-app', { opId: 'op-1' }));
    await inApp.send(deliveryFor('in-app', { opId: 'op-2' }));
    await h.engine.identify({ userId: 'ada', traits: {} });
    // A write cut short, or an edit by hand.
    await h.redis.hset(inAppKeys(h.prefix, 'ada').items, 'op-2', '{"id":"op-2","title');
    const list = await h.app.inject({ url: '/v1/customers/ada/in-app', headers: h.auth });
    expect(list.statusCode).toBe(200);
    expect(list.json<{ messages: Array<{ id: string }> }>().messages.map((m) => m.id)).toEqual(['op-1']);
    const exported = await h.app.inject({ url: '/v1/customers/ada/export', headers: h.auth });
    expect(exported.statusCode).toBe(200);
    expect(exported.json<{ inAppMessages: Array<{ id: string }> }>().inAppMessages.map((m) => m.id)).toEqual([
      'op-1',
    ]);
    // A dismissal's record cut short: the export still answers, without it.
    await h.redis.hset(inAppKeys(h.prefix, 'ada').items, 'op-2', '{"dismissedAt":17');
    const again = await h.app.inject({ url: '/v1/customers/ada/export', headers: h.auth });
    expect(again.statusCode).toBe(200);
    expect(again.json()).toMatchObject({ dismissedInAppMessages: [] });
  });

  it('lists a message until it expires, with its expiry, while the export still shows what is kept', async () => {
    await h.engine.identify({ userId: 'ada', traits: { firstName: 'Ada' } });
    const inApp = createInAppAdapter({
      redis: h.redis,
      prefix: h.prefix,
      clock: h.clock,
      ttlMs: 7 * 86_400_000,
    });
    await inApp.send(deliveryFor('in-app', { opId: 'op-1' }));
    const listed = async () =>
      (await h.app.inject({ url: '/v1/customers/ada/in-app', headers: h.auth })).json<{
        messages: Array<{ id: string; expiresAt: number | null }>;
      }>().messages;
    expect(await listed()).toEqual([
      expect.objectContaining({ id: 'op-1', expiresAt: h.clock.now() + 7 * 86_400_000 }),
    ]);
    h.clock.advance('7d');
    expect(await listed()).toEqual([]);
    const exported = await h.app.inject({ url: '/v1/customers/ada/export', headers: h.auth });
    expect(exported.json<{ inAppMessages: Array<{ id: string }> }>().inAppMessages.map((m) => m.id)).toEqual([
      'op-1',
    ]);
    // A dismissal's record cut short: the export still answers, without it.
    await h.redis.hset(inAppKeys(h.prefix, 'ada').items, 'op-2', '{"dismissedAt":17');
    const again = await h.app.inject({ url: '/v1/customers/ada/export', headers: h.auth });
    expect(again.statusCode).toBe(200);
    expect(again.json()).toMatchObject({ dismissedInAppMessages: [] });
  });

  it('dismisses a message: it leaves the inbox, and a second dismissal is a 404', async () => {
    const inApp = createInAppAdapter({ redis: h.redis, prefix: h.prefix, clock: h.clock });
    await inApp.send(deliveryFor('in-app', { opId: 'op-1' }));
    await inApp.send(deliveryFor('in-app', { opId: 'op-2' }));
    const dismiss = () =>
      h.app.inject({ method: 'POST', url: '/v1/customers/ada/in-app/op-1/dismiss', headers: h.auth });
    const first = await dismiss();
    expect(first.statusCode).toBe(200);
    expect(first.json()).toEqual({ dismissed: true });
    const list = await h.app.inject({ url: '/v1/customers/ada/in-app', headers: h.auth });
    expect(list.json<{ messages: Array<{ id: string }> }>().messages.map((m) => m.id)).toEqual(['op-2']);
    expect((await dismiss()).statusCode).toBe(404);
  });

  it('lists in the export which messages the customer dismissed, and when', async () => {
    // The dismissal stays stored (it keeps a repeated send out), yet the export, which answers a
    // data subject access request with everything kept, left it out.
    await h.engine.identify({ userId: 'ada', traits: { firstName: 'Ada' } });
    const inApp = createInAppAdapter({ redis: h.redis, prefix: h.prefix, clock: h.clock });
    await inApp.send(deliveryFor('in-app', { opId: 'op-1' }));
    await inApp.send(deliveryFor('in-app', { opId: 'op-2' }));
    h.clock.advance('1h');
    await h.app.inject({ method: 'POST', url: '/v1/customers/ada/in-app/op-1/dismiss', headers: h.auth });

    const exported = (await h.app.inject({ url: '/v1/customers/ada/export', headers: h.auth })).json<{
      inAppMessages: Array<{ id: string }>;
      dismissedInAppMessages: unknown;
    }>();

    expect(exported.inAppMessages.map((m) => m.id)).toEqual(['op-2']);
    expect(exported.dismissedInAppMessages).toEqual([{ id: 'op-1', dismissedAt: h.clock.now() }]);
  });

  it("shows a message for IN_APP_TTL in the process's adapters", async () => {
    const adapters = createChannelAdapters({
      redis: h.redis,
      prefix: h.prefix,
      outboxDir: 'outbox',
      mailFrom: 'hello@chorus.local',
      inAppTtlMs: 86_400_000,
    });
    const before = Date.now();
    await adapters['in-app']!.send(deliveryFor('in-app', { opId: 'op-1' }));
    const [message] = await readInAppInbox(h.redis, h.prefix, 'ada');
    expect(message!.expiresAt! - message!.createdAt).toBe(86_400_000);
    expect(message!.createdAt).toBeGreaterThanOrEqual(before);
  });

  it.each([
    ['dots', 'ada.'.repeat(64)],
    ['CJK characters', '漢'.repeat(256)],
  ])(
    'marks read the message of a customer whose id is as long as ingest allows, with %s',
    async (_, userId) => {
      // 256 characters, each encoded in the operation id: the id the inbox lists is far over 300.
      const opId = sendOpId(userId, 'onboarding-and-activation', 3, 0);
      const inApp = createInAppAdapter({ redis: h.redis, prefix: h.prefix, clock: h.clock });
      await inApp.send(deliveryFor('in-app', { opId, customerId: userId }));
      const path = `/v1/customers/${encodeURIComponent(userId)}/in-app`;
      const list = await h.app.inject({ url: path, headers: h.auth });
      expect(list.json<{ messages: Array<{ id: string }> }>().messages.map((m) => m.id)).toEqual([opId]);

      const read = await h.app.inject({
        method: 'POST',
        url: `${path}/${encodeURIComponent(opId)}/read`,
        headers: h.auth,
      });
      expect(read.statusCode).toBe(200);
      expect(read.json()).toEqual({ read: true });
    },
  );
});
