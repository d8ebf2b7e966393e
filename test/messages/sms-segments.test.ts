import { describe, expect, it } from 'vitest';
import { isGsm7, smsSegments } from '../../engine/messages/sms-segments.js';

describe('SMS segments', () => {
  it('fits 160 GSM-7 characters in one message and needs two parts for 161', () => {
    expect(smsSegments('a'.repeat(160))).toEqual({ encoding: 'GSM-7', units: 160, segments: 1 });
    expect(smsSegments('a'.repeat(161))).toEqual({ encoding: 'GSM-7', units: 161, segments: 2 });
    expect(smsSegments('a'.repeat(306)).segments).toBe(2);
    expect(smsSegments('a'.repeat(307)).segments).toBe(3);
  });

  it('counts the extension characters of GSM 03.38 as two septets', () => {
    expect(smsSegments('€'.repeat(80))).toEqual({ encoding: 'GSM-7', units: 160, segments: 1 });
    expect(smsSegments('€'.repeat(80) + '[')).toEqual({ encoding: 'GSM-7', units: 162, segments: 2 });
  });

  it('never splits an escaped extension character between two parts', () => {
    // 306 septets would fit two parts of 153, but the escape of "€" cannot end the first.
    expect(smsSegments('a'.repeat(152) + '€' + 'a'.repeat(152)).segments).toBe(3);
  });

  it('keeps accented letters of the GSM alphabet in GSM-7', () => {
    expect(isGsm7('Café für Åsa, ¿qué tal? £5 @ 10%')).toBe(true);
  });

  it('switches the whole message to UCS-2 for an emoji, counting UTF-16 code units', () => {
    expect(smsSegments('Your tea is ready 🍵')).toEqual({ encoding: 'UCS-2', units: 20, segments: 1 });
    expect(smsSegments('a'.repeat(69) + '🍵')).toEqual({ encoding: 'UCS-2', units: 71, segments: 2 });
    expect(smsSegments('é'.repeat(70)).encoding).toBe('GSM-7');
    expect(smsSegments('ç'.repeat(70))).toEqual({ encoding: 'UCS-2', units: 70, segments: 1 });
    expect(smsSegments('ç'.repeat(71)).segments).toBe(2);
  });

  it('never splits a surrogate pair between two parts', () => {
    // 134 code units would fit two parts of 67, but the emoji cannot straddle them.
    expect(smsSegments('ç'.repeat(66) + '🍵' + 'ç'.repeat(66)).segments).toBe(3);
  });
});
