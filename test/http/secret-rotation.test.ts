import { afterEach, describe, expect, it } from 'vitest';
import { createTrackingToken, createUnsubscribeToken, trackingSecret } from '../../engine/index.js';
import { notify } from '../fixtures/journeys/notify.js';
import { httpHarness, type HttpHarness } from '../support/http.js';
import { eventually } from '../support/redis.js';

/** What UNSUBSCRIBE_SECRET was before the rotation: the links of every email already sent carry it. */
const OLD_SECRET = 'the-secret-before-the-rotation';

describe('links signed before the unsubscribe secret was rotated', () => {
  let h: HttpHarness;
  afterEach(() => h.close());

  const send = {
    opId: 's-ada-notify.1-1-0',
    customerId: 'ada',
    journeyId: 'notify',
    message: 'nudge',
    channel: 'email' as const,
    variant: 'control',
  };
  const click = (secret: string) =>
    createTrackingToken(trackingSecret(secret), { kind: 'click', ...send, url: 'https://example.com/sale' });

  it('still lead on and unsubscribe while the old secret is listed, and not after', async () => {
    h = await httpHarness({ journeys: [notify], previousUnsubscribeSecrets: [OLD_SECRET] });
    await h.engine.identify({ userId: 'ada', traits: { email: 'ada@example.com' } });
    await h.engine.track({ userId: 'ada', event: 'Notify' });
    await eventually(async () => (await h.engine.customer('ada')).messages.length > 0);

    const followed = await h.app.inject(`/t/c/${click(OLD_SECRET)}`);
    expect(followed.statusCode).toBe(302);
    expect(followed.headers.location).toBe('https://example.com/sale');
    const token = createUnsubscribeToken(OLD_SECRET, {
      customerId: 'ada',
      topic: 'marketing',
      exp: h.clock.now() + 86_400_000,
    });
    const unsubscribed = await h.app.inject({
      method: 'POST',
      url: `/v1/unsubscribe?token=${encodeURIComponent(token)}`,
    });
    expect(unsubscribed.json()).toEqual({ unsubscribed: true, topic: 'marketing' });

    await h.close();
    h = await httpHarness({ journeys: [notify], workers: false });
    expect((await h.app.inject(`/t/c/${click(OLD_SECRET)}`)).statusCode).toBe(400);
    const refused = await h.app.inject({
      method: 'POST',
      url: `/v1/unsubscribe?token=${encodeURIComponent(token)}`,
    });
    expect(refused.statusCode).toBe(400);
  });
});
