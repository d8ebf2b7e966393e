import { describe, expect, it } from 'vitest';
import { customerTimeZone, inLocalWindow, nextLocalTime, parseLocalTime } from '../engine/index.js';

const at = (iso: string) => Date.parse(iso);
const time = (text: string) => parseLocalTime(text)!;
const next = (from: string, zone: string, hhmm: string) =>
  new Date(nextLocalTime(at(from), zone, time(hhmm))).toISOString();

describe('nextLocalTime: the first instant at or after now at which the local clocks show a time', () => {
  it('waits for today when the time is still ahead, tomorrow when it has passed', () => {
    expect(next('2026-06-01T06:00:00Z', 'Europe/Berlin', '10:00')).toBe('2026-06-01T08:00:00.000Z');
    expect(next('2026-06-01T09:00:00Z', 'Europe/Berlin', '10:00')).toBe('2026-06-02T08:00:00.000Z');
  });

  it('counts the exact instant as reached, and a millisecond later as passed (Asia/Shanghai, no DST)', () => {
    expect(next('2026-03-08T02:00:00.000Z', 'Asia/Shanghai', '10:00')).toBe('2026-03-08T02:00:00.000Z');
    expect(next('2026-03-08T02:00:00.001Z', 'Asia/Shanghai', '10:00')).toBe('2026-03-09T02:00:00.000Z');
    // Around Europe's and America's changes, Shanghai stays at UTC+8.
    expect(next('2026-03-28T20:00:00Z', 'Asia/Shanghai', '10:00')).toBe('2026-03-29T02:00:00.000Z');
    expect(next('2026-10-31T20:00:00Z', 'Asia/Shanghai', '10:00')).toBe('2026-11-01T02:00:00.000Z');
  });

  describe('America/New_York, 2026', () => {
    it('spring forward (Mar 8): 10:00 is 13 hours after 20:00 the evening before, not 14', () => {
      expect(next('2026-03-08T01:00:00Z', 'America/New_York', '10:00')).toBe('2026-03-08T14:00:00.000Z');
    });

    it('spring forward (Mar 8): 02:30 does not exist, so it is reached when the clocks jump to 03:00 EDT', () => {
      expect(next('2026-03-08T05:00:00Z', 'America/New_York', '02:30')).toBe('2026-03-08T07:00:00.000Z');
      // The day before and after, 02:30 exists as usual.
      expect(next('2026-03-07T05:00:00Z', 'America/New_York', '02:30')).toBe('2026-03-07T07:30:00.000Z');
      expect(next('2026-03-09T04:00:00Z', 'America/New_York', '02:30')).toBe('2026-03-09T06:30:00.000Z');
    });

    it('fall back (Nov 1): 10:00 is 15 hours after 20:00 the evening before', () => {
      expect(next('2026-11-01T00:00:00Z', 'America/New_York', '10:00')).toBe('2026-11-01T15:00:00.000Z');
    });

    it('fall back (Nov 1): 01:30 shows twice; a wait ends at the first showing not before now', () => {
      // From midnight EDT: the first 01:30 (EDT).
      expect(next('2026-11-01T04:00:00Z', 'America/New_York', '01:30')).toBe('2026-11-01T05:30:00.000Z');
      // From 01:45 EDT, after the first showing: the second 01:30 (EST), an hour later.
      expect(next('2026-11-01T05:45:00Z', 'America/New_York', '01:30')).toBe('2026-11-01T06:30:00.000Z');
      // From 01:15 EST, in the repeated hour: the second 01:30.
      expect(next('2026-11-01T06:15:00Z', 'America/New_York', '01:30')).toBe('2026-11-01T06:30:00.000Z');
    });
  });

  describe('Europe/Berlin, 2026', () => {
    it('spring forward (Mar 29): 10:00 CEST, and 02:30 reached when the clocks jump to 03:00', () => {
      expect(next('2026-03-28T19:00:00Z', 'Europe/Berlin', '10:00')).toBe('2026-03-29T08:00:00.000Z');
      expect(next('2026-03-28T23:00:00Z', 'Europe/Berlin', '02:30')).toBe('2026-03-29T01:00:00.000Z');
    });

    it('fall back (Oct 25): 10:00 CET, and 02:30 reached first in CEST, then again in CET', () => {
      expect(next('2026-10-24T19:00:00Z', 'Europe/Berlin', '10:00')).toBe('2026-10-25T09:00:00.000Z');
      expect(next('2026-10-24T22:00:00Z', 'Europe/Berlin', '02:30')).toBe('2026-10-25T00:30:00.000Z');
      expect(next('2026-10-25T00:45:00Z', 'Europe/Berlin', '02:30')).toBe('2026-10-25T01:30:00.000Z');
    });
  });
});

describe('inLocalWindow', () => {
  const quiet = { start: time('21:00'), end: time('08:00') };

  it('includes the start and excludes the end, across midnight', () => {
    expect(inLocalWindow(at('2026-06-01T18:59:00Z'), 'Europe/Berlin', quiet)).toBe(false); // 20:59
    expect(inLocalWindow(at('2026-06-01T19:00:00Z'), 'Europe/Berlin', quiet)).toBe(true); // 21:00
    expect(inLocalWindow(at('2026-06-01T23:00:00Z'), 'Europe/Berlin', quiet)).toBe(true); // 01:00
    expect(inLocalWindow(at('2026-06-02T05:59:00Z'), 'Europe/Berlin', quiet)).toBe(true); // 07:59
    expect(inLocalWindow(at('2026-06-02T06:00:00Z'), 'Europe/Berlin', quiet)).toBe(false); // 08:00
  });

  it('handles a window within one day', () => {
    const lunch = { start: time('12:00'), end: time('13:30') };
    expect(inLocalWindow(at('2026-06-01T04:15:00Z'), 'Asia/Shanghai', lunch)).toBe(true); // 12:15
    expect(inLocalWindow(at('2026-06-01T05:30:00Z'), 'Asia/Shanghai', lunch)).toBe(false); // 13:30
  });
});

describe('parseLocalTime and customerTimeZone', () => {
  it('reads HH:MM on a 24-hour clock only', () => {
    expect(parseLocalTime('09:05')).toEqual({ hour: 9, minute: 5 });
    expect(parseLocalTime('23:59')).toEqual({ hour: 23, minute: 59 });
    for (const bad of ['9:05', '24:00', '10:60', '10:00 ', 'ten'])
      expect(parseLocalTime(bad)).toBeUndefined();
  });

  it('takes the timezone trait when it is an IANA zone, else the fallback', () => {
    expect(customerTimeZone({ timezone: 'Asia/Shanghai' }, 'UTC')).toBe('Asia/Shanghai');
    expect(customerTimeZone({ timezone: 'Mars/Olympus' }, 'Europe/Berlin')).toBe('Europe/Berlin');
    expect(customerTimeZone({ timezone: 42 }, 'UTC')).toBe('UTC');
    expect(customerTimeZone({}, 'America/New_York')).toBe('America/New_York');
  });

  it("takes the device's zone (deviceTimezone, from context.timezone) when no timezone trait names one", () => {
    expect(customerTimeZone({ deviceTimezone: 'Asia/Kathmandu' }, 'UTC')).toBe('Asia/Kathmandu');
    expect(customerTimeZone({ timezone: 'Europe/Paris', deviceTimezone: 'Asia/Kathmandu' }, 'UTC')).toBe(
      'Europe/Paris',
    );
    expect(customerTimeZone({ timezone: 'Mars/Olympus', deviceTimezone: 'Asia/Kathmandu' }, 'UTC')).toBe(
      'Asia/Kathmandu',
    );
  });
});
