import { describe, expect, it } from 'vitest';
import { PolicyConfigError, QuietHoursWindow, quietHours, type PolicyDecision } from '../../engine/index.js';
import { sendJob } from './send-job.js';

const policy = quietHours({
  window: QuietHoursWindow.parse('21:00-08:00'),
  defaultTimezone: 'Europe/Berlin',
});

async function decide(
  iso: string,
  traits: Record<string, unknown> = {},
  job = sendJob(),
  topic: 'marketing' | 'transactional' = 'marketing',
): Promise<PolicyDecision> {
  return policy.check({ job, channel: job.channel, traits, now: Date.parse(iso), topic });
}

const until = (decision: PolicyDecision) =>
  decision.action === 'delay' ? new Date(decision.untilMs).toISOString() : decision.action;

describe('quiet hours 21:00-08:00 on the customer’s own clock', () => {
  it('sends outside quiet hours and holds a send inside them until 08:00 local, with the reason', async () => {
    expect(await decide('2026-06-01T18:59:00Z')).toEqual({ action: 'send' }); // 20:59 in Berlin
    const held = await decide('2026-06-01T19:00:00Z'); // 21:00
    expect(held).toEqual({
      action: 'delay',
      untilMs: Date.parse('2026-06-02T06:00:00Z'),
      reason: 'quiet hours 21:00-08:00 in Europe/Berlin: held until 2026-06-02T06:00:00.000Z',
    });
    expect(until(await decide('2026-06-02T05:59:59Z'))).toBe('2026-06-02T06:00:00.000Z'); // 07:59:59
    expect(await decide('2026-06-02T06:00:00Z')).toEqual({ action: 'send' }); // 08:00 sharp
  });

  it('holds email, SMS and push by default, not in-app messages (seen when the app is opened) or webhooks', async () => {
    for (const channel of ['sms', 'push'] as const)
      expect(until(await decide('2026-06-01T19:00:00Z', {}, sendJob({ channel, channels: [channel] })))).toBe(
        '2026-06-02T06:00:00.000Z',
      );
    for (const channel of ['in-app', 'webhook'] as const)
      expect(await decide('2026-06-01T19:00:00Z', {}, sendJob({ channel, channels: [channel] }))).toEqual({
        action: 'send',
      });
    const inAppToo = quietHours({
      window: QuietHoursWindow.parse('21:00-08:00'),
      defaultTimezone: 'Europe/Berlin',
      channels: ['in-app'],
    });
    const job = sendJob({ channel: 'in-app', channels: ['in-app'] });
    expect(
      await inAppToo.check({ job, channel: 'in-app', traits: {}, now: Date.parse('2026-06-01T19:00:00Z') }),
    ).toMatchObject({ action: 'delay' });
  });

  it('uses the timezone trait, and the default zone when the trait is missing or not a zone', async () => {
    // 13:00Z is 21:00 in Shanghai, 15:00 in Berlin.
    expect(until(await decide('2026-03-08T13:00:00Z', { timezone: 'Asia/Shanghai' }))).toBe(
      '2026-03-09T00:00:00.000Z',
    );
    expect(await decide('2026-03-08T13:00:00Z', { timezone: 'Not/AZone' })).toEqual({ action: 'send' });
    expect(await decide('2026-03-08T13:00:00Z')).toEqual({ action: 'send' });
  });

  it('reads a timezone trait with spaces around it, as an import from a spreadsheet leaves it', async () => {
    // 16:00Z is 21:45 in Kathmandu (+05:45), 18:00 in Berlin, the default.
    for (const timezone of ['Asia/Kathmandu', ' Asia/Kathmandu', 'Asia/Kathmandu \n'])
      expect(until(await decide('2026-06-01T16:00:00Z', { timezone })), JSON.stringify(timezone)).toBe(
        '2026-06-02T02:15:00.000Z',
      );
    expect(await decide('2026-06-01T16:00:00Z', { timezone: '   ' })).toEqual({ action: 'send' });
  });

  it('America/New_York spring forward (Mar 8, 2026): the night is an hour shorter', async () => {
    // 23:00 EST on Mar 7 until 08:00 EDT on Mar 8: eight hours, not nine.
    expect(until(await decide('2026-03-08T04:00:00Z', { timezone: 'America/New_York' }))).toBe(
      '2026-03-08T12:00:00.000Z',
    );
  });

  it('America/New_York fall back (Nov 1, 2026): the night is an hour longer', async () => {
    // 23:00 EDT on Oct 31 until 08:00 EST on Nov 1: ten hours; the repeated 01:00-02:00 is quiet both times.
    const tz = { timezone: 'America/New_York' };
    expect(until(await decide('2026-11-01T03:00:00Z', tz))).toBe('2026-11-01T13:00:00.000Z');
    expect(until(await decide('2026-11-01T05:30:00Z', tz))).toBe('2026-11-01T13:00:00.000Z'); // 01:30 EDT
    expect(until(await decide('2026-11-01T06:30:00Z', tz))).toBe('2026-11-01T13:00:00.000Z'); // 01:30 EST
  });

  it('Europe/Berlin spring forward (Mar 29) and fall back (Oct 25, 2026)', async () => {
    expect(until(await decide('2026-03-28T21:00:00Z'))).toBe('2026-03-29T06:00:00.000Z'); // 22:00 CET to 08:00 CEST
    expect(until(await decide('2026-10-24T20:00:00Z'))).toBe('2026-10-25T07:00:00.000Z'); // 22:00 CEST to 08:00 CET
  });

  it('Asia/Shanghai has no DST: 21:00 to 08:00 is always eleven hours', async () => {
    const tz = { timezone: 'Asia/Shanghai' };
    for (const evening of [
      '2026-03-07T13:00:00Z',
      '2026-03-28T13:00:00Z',
      '2026-10-24T13:00:00Z',
      '2026-10-31T13:00:00Z',
    ])
      expect(until(await decide(evening, tz))).toBe(
        new Date(Date.parse(evening) + 11 * 3_600_000).toISOString(),
      );
  });

  it('ends quiet hours whose end the clocks skip when they jump past it (22:00-02:30, New York, Mar 8)', async () => {
    const skipped = quietHours({
      window: QuietHoursWindow.parse('22:00-02:30'),
      defaultTimezone: 'America/New_York',
    });
    const check = (iso: string) =>
      skipped.check({ job: sendJob(), channel: 'email', traits: {}, now: Date.parse(iso) });
    // 01:45 EST: held until 03:00 EDT, the first moment the clocks show a time after 02:30.
    expect(await check('2026-03-08T06:45:00Z')).toMatchObject({
      action: 'delay',
      untilMs: Date.parse('2026-03-08T07:00:00Z'),
    });
    expect(await check('2026-03-08T07:00:00Z')).toEqual({ action: 'send' });
  });

  it('repeats quiet hours whose end the clocks show twice (22:00-01:30, New York, Nov 1)', async () => {
    const repeated = quietHours({
      window: QuietHoursWindow.parse('22:00-01:30'),
      defaultTimezone: 'America/New_York',
    });
    const check = (iso: string) =>
      repeated.check({ job: sendJob(), channel: 'email', traits: {}, now: Date.parse(iso) });
    expect(await check('2026-11-01T05:15:00Z')).toMatchObject({
      untilMs: Date.parse('2026-11-01T05:30:00Z'),
    }); // 01:15 EDT
    expect(await check('2026-11-01T05:45:00Z')).toEqual({ action: 'send' }); // 01:45 EDT
    // 01:15 EST: the clocks show quiet hours again, until the second 01:30.
    expect(await check('2026-11-01T06:15:00Z')).toMatchObject({
      untilMs: Date.parse('2026-11-01T06:30:00Z'),
    });
  });

  it('lets transactional sends through, and only holds the channels it is given', async () => {
    const night = '2026-06-01T22:00:00Z';
    expect(await decide(night, {}, sendJob(), 'transactional')).toEqual({
      action: 'send',
    });
    const smsOnly = quietHours({
      window: QuietHoursWindow.parse('21:00-08:00'),
      defaultTimezone: 'UTC',
      channels: ['sms'],
    });
    const now = Date.parse(night);
    expect(await smsOnly.check({ job: sendJob(), channel: 'email', traits: {}, now })).toEqual({
      action: 'send',
    });
    expect(await smsOnly.check({ job: sendJob(), channel: 'sms', traits: {}, now })).toMatchObject({
      action: 'delay',
    });
  });

  it('refuses a default zone that is not an IANA zone, and windows it cannot read', () => {
    expect(() =>
      quietHours({ window: QuietHoursWindow.parse('21:00-08:00'), defaultTimezone: 'CEST+1' }),
    ).toThrow(PolicyConfigError);
    for (const bad of ['21:00', '21:00-21:00', '9pm-8am', '21:00-08:00-09:00'])
      expect(QuietHoursWindow.safeParse(bad).success).toBe(false);
  });

  it('refuses, in code too, a window that starts as it ends or names a time no clock shows', () => {
    // Always quiet, with an end never reached out of it: every send would be held for good.
    for (const window of [
      { start: { hour: 8, minute: 0 }, end: { hour: 8, minute: 0 } },
      { start: { hour: 21, minute: 0 }, end: { hour: 24, minute: 0 } },
      { start: { hour: 21, minute: 0 }, end: { hour: 7, minute: 60 } },
    ])
      expect(() => quietHours({ window, defaultTimezone: 'UTC' })).toThrow(PolicyConfigError);
  });
});
