import { describe, expect, it } from 'vitest';
import {
  createUnsubscribeToken,
  resolveAddress,
  retryDelay,
  variantLabel,
  verifyUnsubscribeToken,
  unsubscribeUrl,
} from '../../engine/index.js';

describe('one-click unsubscribe tokens', () => {
  const secret = 'a-secret-of-sixteen+';
  const claim = { customerId: 'ada:1', topic: 'marketing', exp: 2_000 };

  it('round-trip the customer and topic until they expire', () => {
    const token = createUnsubscribeToken(secret, claim);
    expect(verifyUnsubscribeToken(secret, token, 1_000)).toEqual(claim);
    expect(verifyUnsubscribeToken(secret, token, 2_001)).toBeUndefined();
  });

  it('refuse a token signed with another secret or tampered with', () => {
    const token = createUnsubscribeToken(secret, claim);
    expect(verifyUnsubscribeToken('another-secret-of-16', token, 1_000)).toBeUndefined();
    const [payload, signature] = token.split('.');
    const forged = Buffer.from(JSON.stringify({ c: 'someone-else', t: 'marketing', e: 2_000 })).toString(
      'base64url',
    );
    expect(verifyUnsubscribeToken(secret, `${forged}.${signature}`, 1_000)).toBeUndefined();
    expect(verifyUnsubscribeToken(secret, `${payload}`, 1_000)).toBeUndefined();
  });

  it('make an API URL with the token escaped', () => {
    expect(unsubscribeUrl('https://api.example.com/', 'a.b')).toBe(
      'https://api.example.com/v1/unsubscribe?token=a.b',
    );
  });
});

describe('addresses', () => {
  it('come from Segment traits, and in-app needs none', () => {
    const traits = { email: ' ada@example.com ', phone: '+15550100', pushToken: '' };
    expect(resolveAddress('email', traits, undefined)).toEqual({ email: 'ada@example.com' });
    expect(resolveAddress('sms', traits, undefined)).toEqual({ phone: '+15550100' });
    expect(resolveAddress('push', traits, undefined)).toBeUndefined();
    expect(resolveAddress('in-app', {}, undefined)).toEqual({});
    expect(resolveAddress('webhook', {}, 'https://crm.example.com/hook')).toEqual({
      webhookUrl: 'https://crm.example.com/hook',
    });
  });
});

describe('retry delays', () => {
  it('grow exponentially up to a cap, at least half of it for certain, and respect a Retry-After floor', () => {
    const at = (attempt: number, random: number, floorMs?: number) =>
      retryDelay(attempt, {
        baseMs: 1_000,
        maxMs: 60_000,
        random: () => random,
        ...(floorMs ? { floorMs } : {}),
      });
    expect([1, 2, 3, 4].map((n) => at(n, 1))).toEqual([1_000, 2_000, 4_000, 8_000]);
    expect(at(20, 1)).toBe(60_000);
    expect(at(3, 0.5)).toBe(3_000);
    expect([1, 2, 3, 4].map((n) => at(n, 0))).toEqual([500, 1_000, 2_000, 4_000]);
    // However the dice fall, ten attempts span at least half the caps' sum: a short outage cannot use them up.
    const shortest = Array.from({ length: 9 }, (_, i) =>
      retryDelay(i + 1, { baseMs: 1_000, maxMs: 300_000, random: () => 0 }),
    ).reduce((a, b) => a + b);
    expect(shortest).toBe(255_500);
    expect(at(1, 0.1, 30_000)).toBe(30_000);
    // A Retry-After of a year holds the send back an hour at most.
    expect(at(1, 0.1, 365 * 86_400_000)).toBe(3_600_000);
  });
});

describe('variant labels', () => {
  it('name every split in a stable order, or control', () => {
    expect(variantLabel({})).toBe('control');
    expect(variantLabel({ subject: 'b', tips: 'holdout' })).toBe('subject=b,tips=holdout');
    expect(variantLabel({ tips: 'holdout', subject: 'b' })).toBe('subject=b,tips=holdout');
  });
});
