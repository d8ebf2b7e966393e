import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { onboarding } from '../fixtures/journeys/onboarding.js';
import { httpHarness, type HttpHarness } from '../support/http.js';

describe('ids in Unicode', () => {
  let h: HttpHarness;
  beforeEach(async () => {
    h = await httpHarness({ journeys: [onboarding], workers: false });
  });
  afterEach(() => h.close());

  // JSON escapes, as a sender that cut an id inside an emoji writes them: half a character each.
  const post = (url: string, json: string) =>
    h.app.inject({
      method: 'POST',
      url,
      payload: json,
      headers: { ...h.auth, 'content-type': 'application/json' },
    });

  it('keeps customers and message ids apart whatever their characters, emoji included', async () => {
    const a = await post('/v1/identify', '{"userId":"😀 ada","traits":{"plan":"a"},"messageId":"m-😀"}');
    const b = await post('/v1/identify', '{"userId":"😃 ada","traits":{"plan":"b"},"messageId":"m-😃"}');
    expect([a.json(), b.json()]).toEqual([
      { eventId: 'm-😀', duplicate: false },
      { eventId: 'm-😃', duplicate: false },
    ]);
    expect((await h.engine.customer('😀 ada')).recentEvents.map((e) => e.id)).toEqual(['m-😀']);
  });

  it('refuses an id with half a character, which Redis would store as another half would', async () => {
    // Each lone surrogate is written to Redis as the same replacement character: two such ids
    // would share one customer's keys, or one seen-marker.
    const res = await post(
      '/v1/batch',
      '{"batch":[{"type":"identify","userId":"ada\\ud83d","traits":{"plan":"a"}},' +
        '{"type":"track","userId":"bo","event":"Signed Up","messageId":"m-\\ud83d"},' +
        // An anonymousId is stored nowhere: a visitor's call is ignored as ever.
        '{"type":"track","anonymousId":"v-\\ude00","event":"Signed Up"}]}',
    );
    expect(res.statusCode).toBe(400);
    expect(
      res.json<{ error: { issues: Array<{ field: string }> } }>().error.issues.map((i) => i.field),
    ).toEqual(['body.batch.0.userId', 'body.batch.1.messageId']);
    expect(await h.redis.keys(`${h.prefix}:c:*`)).toEqual([]);
    // From code too.
    await expect(h.engine.track({ userId: 'x\ud83c', event: 'Signed Up' })).rejects.toMatchObject({
      code: 'CHORUS_INVALID_INPUT',
    });
  });
});
