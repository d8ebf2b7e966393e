import { describe, expect, it } from 'vitest';
import { createUnsubscribeToken } from '../../engine/delivery/unsubscribe-token.js';
import { sealToken } from '../../engine/signed-token.js';
import {
  clickUrl,
  createTrackingToken,
  trackingSecret,
  verifyTrackingToken,
  type TrackingClaim,
} from '../../engine/tracking/tracking-token.js';

const secret = trackingSecret('test-secret-of-sixteen');
const click: TrackingClaim = {
  kind: 'click',
  opId: 'op-1',
  customerId: 'ada',
  journeyId: 'onboarding',
  message: 'welcome',
  channel: 'email',
  variant: 'subject=b',
  url: 'https://example.com/blends?q=a b&utm_source=chorus&utm_medium=email#top',
};

describe('tracking tokens', () => {
  it('carry the send and the exact URL, UTM parameters included, back out', () => {
    const token = createTrackingToken(secret, click);
    expect(verifyTrackingToken(secret, token)).toEqual(click);
    const { url: _url, ...send } = click;
    const open: TrackingClaim = { ...send, kind: 'open' };
    expect(verifyTrackingToken(secret, createTrackingToken(secret, open))).toEqual(open);
  });

  it('are URL-safe, so a tracked link is one path segment', () => {
    const token = createTrackingToken(secret, click);
    expect(token).toMatch(/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{22}$/);
    expect(clickUrl('https://chorus.example.com/', token)).toBe(`https://chorus.example.com/t/c/${token}`);
  });

  it('reject a payload changed to point elsewhere, keeping the signature', () => {
    const [, signature] = createTrackingToken(secret, click).split('.');
    const forged = createTrackingToken('another-secret', { ...click, url: 'https://evil.example/' });
    const [forgedPayload] = forged.split('.');
    expect(verifyTrackingToken(secret, `${forgedPayload}.${signature}`)).toBeUndefined();
    expect(verifyTrackingToken(secret, forged)).toBeUndefined();
  });

  it('reject truncated, unsigned, empty and garbled tokens', () => {
    const token = createTrackingToken(secret, click);
    const [payload] = token.split('.');
    for (const bad of [
      token.slice(0, -1),
      token.slice(0, token.length / 2),
      payload!,
      `${payload}.`,
      `${token}.extra`,
      '',
      '.',
      'not-a-token',
    ]) {
      expect(verifyTrackingToken(secret, bad), bad).toBeUndefined();
    }
  });

  it('are signed with a key of their own: an unsubscribe token never passes, nor the other way round', () => {
    const unsubscribe = createUnsubscribeToken('test-secret-of-sixteen', {
      customerId: 'ada',
      topic: 'marketing',
      exp: Date.now() + 60_000,
    });
    expect(verifyTrackingToken(secret, unsubscribe)).toBeUndefined();
    expect(verifyTrackingToken('test-secret-of-sixteen', unsubscribe)).toBeUndefined();
    expect(secret).not.toBe('test-secret-of-sixteen');
    expect(trackingSecret('test-secret-of-sixteen')).toBe(secret);
  });

  it('say when a click was signed before its host was checked (version 1), and only then', () => {
    const { kind: _kind, url, ...send } = click;
    const v1 = sealToken(secret, [1, 'c', ...Object.values(send), url], { macBytes: 16 });
    expect(verifyTrackingToken(secret, v1)).toEqual({ ...click, hostUnchecked: true });
    expect(verifyTrackingToken(secret, createTrackingToken(secret, click))).not.toHaveProperty(
      'hostUnchecked',
    );
  });

  it('never carry a URL that is not http(s), even when signed', () => {
    const script = createTrackingToken(secret, { ...click, url: 'javascript:alert(1)' });
    expect(verifyTrackingToken(secret, script)).toBeUndefined();
  });
});
