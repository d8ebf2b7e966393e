import { describe, expect, it } from 'vitest';
import { failureForStatus, parseRetryAfter, type HttpAnswer } from '../../engine/channels/http-result.js';

const now = Date.parse('2026-03-01T12:00:00Z');

function answer(status: number, headers: Record<string, string> = {}, body = ''): HttpAnswer {
  return { status, header: (name) => headers[name.toLowerCase()], body };
}

describe('HTTP answers as delivery results', () => {
  it('reads Retry-After as seconds or as an HTTP date', () => {
    expect(parseRetryAfter('120', now)).toBe(120_000);
    expect(parseRetryAfter('Sun, 01 Mar 2026 12:00:30 GMT', now)).toBe(30_000);
    expect(parseRetryAfter('Sun, 01 Mar 2026 11:00:00 GMT', now)).toBe(0);
    expect(parseRetryAfter('soon', now)).toBeUndefined();
    // A fraction of a second is a delay, not a date in 2001; a bare date or a number is no HTTP-date.
    expect(parseRetryAfter('1.5', now)).toBe(1_500);
    expect(parseRetryAfter('2026-03-01', now)).toBeUndefined();
    // RFC 850's form, and asctime's, which says no zone and is GMT whatever the process's is.
    expect(parseRetryAfter('Sunday, 01-Mar-26 12:00:30 GMT', now)).toBe(30_000);
    expect(parseRetryAfter('Sun Mar  1 12:00:30 2026', now)).toBe(30_000);
    expect(parseRetryAfter(null, now)).toBeUndefined();
  });

  it('retries 408, 429 and 5xx, after Retry-After when given', () => {
    expect(failureForStatus('P', answer(429, { 'retry-after': '3' }), now)).toEqual({
      status: 'retry',
      reason: 'P answered HTTP 429',
      afterMs: 3000,
    });
    expect(failureForStatus('P', answer(503, {}, 'down'), now)).toEqual({
      status: 'retry',
      reason: 'P answered HTTP 503: down',
    });
    expect(failureForStatus('P', answer(408), now).status).toBe('retry');
  });

  it('says a 504 may have arrived: a gateway gave up waiting for the provider', () => {
    expect(failureForStatus('P', answer(504), now)).toEqual({
      status: 'retry',
      reason: 'P answered HTTP 504',
      mayHaveArrived: true,
    });
    for (const status of [500, 502, 503, 429])
      expect(failureForStatus('P', answer(status), now)).not.toHaveProperty('mayHaveArrived');
  });

  it('fails other 4xx and redirects for good', () => {
    expect(failureForStatus('P', answer(400, {}, 'bad  \n request'), now)).toEqual({
      status: 'failed',
      reason: 'P answered HTTP 400: bad request',
    });
    expect(failureForStatus('P', answer(302, { location: 'http://169.254.169.254/' }), now)).toEqual({
      status: 'failed',
      reason: 'P answered HTTP 302 (redirect to http://169.254.169.254/ not followed)',
    });
  });
});
