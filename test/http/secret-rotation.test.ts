import { afterEach, describe, expect, it } from 'vitest';
import {
  createConsentToken,
  createTrackingToken,
  createUnsubscribeToken,
  trackingSecret,
} from '../../engine/index.js';
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

  it('still confirm a double opt-in while the old secret is listed, and not after', async () => {
    /** Asks for ada's email marketing consent; the link of the confirmation email sent before the rotation. */
    async function linkSignedBeforeTheRotation(): Promise<string> {
      const asked = await h.app.inject({
        method: 'POST',
        url: '/v1/customers/ada/consent',
        headers: h.auth,
        payload: { channel: 'email', topic: 'marketing', granted: true, source: 'signup form' },
      });
      const token = createConsentToken(OLD_SECRET, {
        customerId: 'ada',
        channel: 'email',
        topic: 'marketing',
        exp: h.clock.now() + 7 * 86_400_000,
        requestedAt: asked.json<{ record: { at: number } }>().record.at,
      });
      return `/v1/consent/confirm?token=${encodeURIComponent(token)}`;
    }

    h = await httpHarness({
      journeys: [notify],
      doubleOptIn: true,
      previousUnsubscribeSecrets: [OLD_SECRET],
    });
    const listed = await linkSignedBeforeTheRotation();
    expect((await h.app.inject(listed)).statusCode).toBe(200);
    const confirmed = await h.app.inject({ method: 'POST', url: listed });
    expect(confirmed.json()).toMatchObject({ confirmed: true, record: { state: 'granted' } });

    await h.close();
    h = await httpHarness({ journeys: [notify], doubleOptIn: true, workers: false });
    const unlisted = await linkSignedBeforeTheRotation();
    expect((await h.app.inject(unlisted)).statusCode).toBe(400);
    expect((await h.app.inject({ method: 'POST', url: unlisted })).statusCode).toBe(400);
  });
});
