import { Redis } from 'ioredis';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { readDailyCounts } from '../../engine/index.js';
import { keysSharingTag } from '../../engine/redis/scan-keys.js';
import { sendOpId } from '../../engine/runtime/ids.js';
import { customerKeys } from '../../engine/store/customer-keys.js';
import { notify } from '../fixtures/journeys/notify.js';
import { httpHarness, type HttpHarness } from '../support/http.js';
import { eventually } from '../support/redis.js';

describe('provider reports naming their send', () => {
  let h: HttpHarness;
  beforeEach(async () => {
    h = await httpHarness({ journeys: [notify] });
  });
  afterEach(() => h.close());

  it('records a delivery once on the message and in the day counts', async () => {
    await h.engine.identify({ userId: 'u1', traits: { email: 'u1@example.com' } });
    await h.engine.track({ userId: 'u1', event: 'Notify' });
    const sent = await eventually(async () =>
      (await h.engine.customer('u1')).messages.find((m) => m.status === 'sent'),
    );
    // Dated by the provider, on the day the workers counted the send (the API's clock is theirs).
    const report = {
      type: 'delivered',
      channel: 'email',
      customerId: 'u1',
      opId: String(sent.opId),
      timestamp: new Date(h.clock.now()).toISOString(),
    };
    const post = (payload: object) =>
      h.app.inject({ method: 'POST', url: '/v1/delivery-events', payload, headers: h.auth });
    expect((await post(report)).json()).toEqual({ suppressed: false, recorded: 'first' });
    expect((await post(report)).json()).toEqual({ suppressed: false, recorded: 'repeat' });
    expect((await post({ ...report, opId: 'nope' })).json()).toEqual({
      suppressed: false,
      recorded: 'unknown-send',
    });
    const half = await post({ type: 'delivered', channel: 'email', opId: 'x' });
    expect(half.statusCode).toBe(400);
    const rows = await readDailyCounts(h.redis, h.prefix, {
      journeyId: 'notify',
      from: h.clock.now(),
      to: h.clock.now(),
    });
    expect(rows.find((r) => r.message === 'nudge')?.counts).toMatchObject({ sent: 1, delivered: 1 });
  });

  it('records a bounce of a customer whose id is as long as ingest allows, its operation id far over 256', async () => {
    // 256 characters, each dot encoded in the operation id, as the in-app inbox lists it too.
    const userId = 'ada.'.repeat(64);
    const opId = sendOpId(userId, 'notify.1', 1, 0);
    expect(opId.length).toBeGreaterThan(256);
    const keys = customerKeys(h.prefix, userId);
    await h.redis.hset(keys.state, 'rev', 1);
    const entry = { opId, journeyId: 'notify', message: 'nudge', channel: 'email', status: 'sent' };
    await h.redis.lpush(keys.messages, JSON.stringify({ ...entry, variant: 'control', at: h.clock.now() }));
    const bounce = await h.app.inject({
      method: 'POST',
      url: '/v1/delivery-events',
      headers: h.auth,
      payload: {
        type: 'bounce',
        bounceType: 'hard',
        channel: 'email',
        address: 'ada@example.com',
        customerId: userId,
        opId,
      },
    });
    expect(bounce.json()).toEqual({ suppressed: true, reason: 'hard-bounce', recorded: 'first' });
  });

  it("shows each report on the customer's message, with the fields the reference documents", async () => {
    await h.engine.identify({ userId: 'u2', traits: { email: 'u2@example.com' } });
    await h.engine.track({ userId: 'u2', event: 'Notify' });
    const sent = await eventually(async () =>
      (await h.engine.customer('u2')).messages.find((m) => m.status === 'sent'),
    );
    const send = { channel: 'email', customerId: 'u2', opId: String(sent.opId) };
    const post = (payload: object) =>
      h.app.inject({ method: 'POST', url: '/v1/delivery-events', payload, headers: h.auth });
    await post({ type: 'delivered', ...send });
    await post({ type: 'complaint', address: 'u2@example.com', ...send });
    const customer = await h.app.inject({ url: '/v1/customers/u2', headers: h.auth });
    const message = customer
      .json<{ messages: Array<Record<string, unknown>> }>()
      .messages.find((m) => m.opId === send.opId);
    expect(message).toMatchObject({ deliveredAt: h.clock.now(), complainedAt: h.clock.now() });
    const spec = (await h.app.inject('/docs/json')).json<{
      paths: Record<string, { get: { responses: Record<string, unknown> } }>;
    }>();
    const documented = spec.paths['/v1/customers/{userId}']!.get.responses['200'] as {
      content: {
        'application/json': { schema: { properties: { messages: { items: { properties: object } } } } };
      };
    };
    const fields = Object.keys(
      documented.content['application/json'].schema.properties.messages.items.properties,
    );
    expect(fields).toEqual(expect.arrayContaining(Object.keys(message!)));
  });

  it('records nothing when the customer is erased between reading the send and recording it', async () => {
    await h.engine.identify({ userId: 'u2', traits: { email: 'u2@example.com' } });
    await h.engine.track({ userId: 'u2', event: 'Notify' });
    const sent = await eventually(async () =>
      (await h.engine.customer('u2')).messages.find((m) => m.status === 'sent'),
    );
    // The API's connection is its own: the command is watched on every connection (single Redis
    // and Cluster clients share ioredis's Commander), once.
    type Lrange = (this: Redis, key: string, start: number, stop: number) => Promise<string[]>;
    const commands = Object.getPrototypeOf(Redis.prototype) as { lrange: Lrange };
    const lrange = commands.lrange;
    // The report reads the customer's message list, then the erasure runs to its end.
    commands.lrange = async function (key, start, stop) {
      const list = await lrange.call(this, key, start, stop);
      if (key.endsWith(':messages')) {
        commands.lrange = lrange;
        await h.engine.erase('u2');
      }
      return list;
    };
    const answer = await h.app
      .inject({
        method: 'POST',
        url: '/v1/delivery-events',
        headers: h.auth,
        payload: { type: 'delivered', channel: 'email', customerId: 'u2', opId: String(sent.opId) },
      })
      .finally(() => {
        commands.lrange = lrange;
      });
    expect(answer.json()).toEqual({ suppressed: false, recorded: 'unknown-send' });
    expect(await keysSharingTag(h.redis, h.engine.store.keys('u2').state)).toEqual([]);
  });
});
