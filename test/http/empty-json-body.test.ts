import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { onboarding } from '../fixtures/journeys/onboarding.js';
import { httpHarness, type HttpHarness } from '../support/http.js';

/**
 * Many HTTP clients send `Content-Type: application/json` on every request, with no body where
 * there is none to send. No bytes is no body: the route's schema decides whether it needs one.
 */
describe('an empty body sent as application/json', () => {
  let h: HttpHarness;
  beforeEach(async () => {
    h = await httpHarness({ journeys: [onboarding], workers: false });
  });
  afterEach(() => h.close());

  const emptyJson = (method: 'GET' | 'DELETE' | 'POST', url: string) =>
    h.app.inject({ method, url, payload: '', headers: { ...h.auth, 'content-type': 'application/json' } });

  it('is no body for a route that takes none', async () => {
    await h.engine.identify({ userId: 'ada', traits: { email: 'ada@example.com' } });
    const erased = await emptyJson('DELETE', '/v1/customers/ada');
    expect(erased.statusCode).toBe(200);
    expect(erased.json()).toMatchObject({ erased: true });
    const lifted = await emptyJson('DELETE', '/v1/suppressions?channel=email&address=ada%40example.com');
    expect(lifted.statusCode).toBe(200);
    expect(lifted.json()).toEqual({ lifted: 0 });
    expect((await emptyJson('GET', '/v1/customers/ada')).statusCode).toBe(404);
  });

  it('is no body under any other Content-Type too, as in a form-marked empty POST or DELETE', async () => {
    await h.engine.identify({ userId: 'ada', traits: { email: 'ada@example.com' } });
    // Java's HttpURLConnection and `curl -d ''` mark a request with no body as a form.
    const send = (method: 'DELETE' | 'POST', url: string, contentType: string, payload = '') =>
      h.app.inject({ method, url, payload, headers: { ...h.auth, 'content-type': contentType } });
    const form = 'application/x-www-form-urlencoded';
    const erased = await send('DELETE', '/v1/customers/ada', form);
    expect(erased.statusCode).toBe(200);
    expect(erased.json()).toMatchObject({ erased: true });
    const lifted = await send('DELETE', '/v1/suppressions?channel=email&address=ada%40example.com', form);
    expect(lifted.json()).toEqual({ lifted: 0 });
    const read = await send('POST', '/v1/customers/ada/in-app/m1/read', 'text/plain; charset=utf-8');
    expect(read.json()).toMatchObject({ error: { code: 'CHORUS_NOT_FOUND' } });
    // A route that needs a body names it; bytes that are not JSON are still refused as such.
    const track = await send('POST', '/v1/track', form);
    expect(track.json()).toMatchObject({
      error: { code: 'CHORUS_INVALID_INPUT', issues: [{ field: 'body' }] },
    });
    const formBody = await send('POST', '/v1/track', form, 'userId=ada&event=E');
    expect(formBody.statusCode).toBe(415);
    expect(formBody.json()).toMatchObject({ error: { code: 'CHORUS_UNSUPPORTED_MEDIA_TYPE' } });
  });

  it('is no body when marked gzip or deflate too: no bytes inflate to nothing', async () => {
    await h.engine.identify({ userId: 'ada', traits: { email: 'ada@example.com' } });
    const send = (method: 'DELETE' | 'POST', url: string, encoding: string) =>
      h.app.inject({
        method,
        url,
        payload: '',
        headers: { ...h.auth, 'content-type': 'application/json', 'content-encoding': encoding },
      });
    const erased = await send('DELETE', '/v1/customers/ada', 'gzip');
    expect(erased.statusCode).toBe(200);
    expect(erased.json()).toMatchObject({ erased: true });
    const track = await send('POST', '/v1/track', 'deflate');
    expect(track.statusCode).toBe(400);
    expect(track.json()).toMatchObject({
      error: { code: 'CHORUS_INVALID_INPUT', issues: [{ field: 'body' }] },
    });
  });

  it('is refused, naming the body, by a route that needs one', async () => {
    const response = await emptyJson('POST', '/v1/track');
    expect(response.statusCode).toBe(400);
    expect(response.json()).toMatchObject({
      error: {
        code: 'CHORUS_INVALID_INPUT',
        issues: [
          { field: 'body', message: 'required: this route takes a JSON body, and the request had none' },
        ],
      },
    });
  });

  it('is still refused as JSON when it holds bytes that are not JSON', async () => {
    const response = await h.app.inject({
      method: 'DELETE',
      url: '/v1/customers/ada',
      payload: '{',
      headers: { ...h.auth, 'content-type': 'application/json' },
    });
    expect(response.statusCode).toBe(400);
    expect(response.json()).toMatchObject({ error: { code: 'CHORUS_INVALID_JSON' } });
  });
});
