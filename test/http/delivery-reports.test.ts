import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { readDailyCounts } from '../../engine/index.js';
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
});
