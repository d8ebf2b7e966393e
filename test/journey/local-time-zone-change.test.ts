import { describe, expect, it } from 'vitest';
import { createJourneyHarness, defineJourney } from '../../engine/index.js';
import { morningReminder } from '../../docs/examples/morning-journey.js';
import { enterInstance } from '../../engine/runtime/instance-step.js';
import { moveLocalTimeWaits } from '../../engine/runtime/local-time-move.js';

const iso = (ms: number) => new Date(ms).toISOString();

/** 10:00 local with a two-day way out beside it, in the same state. */
const reminderOrGiveUp = defineJourney({
  id: 'reminder-or-give-up',
  version: 1,
  trigger: { event: 'Product Added' },
  machine: (j) =>
    j.createMachine({
      initial: 'waiting',
      states: {
        waiting: { tags: 'decision', after: { '2d': 'gaveUp', [j.atLocalTime('10:00')]: 'reminded' } },
        reminded: { tags: 'decision', type: 'final', entry: j.send('cart-reminder', ['email']) },
        gaveUp: { tags: 'decision', type: 'final' },
      },
    }),
});

const dueTimes = (h: ReturnType<typeof createJourneyHarness>, customerId: string) =>
  h.pendingTimers(customerId).map((t) => iso(t.dueAt));

describe('a wait until a local time follows the customer to a new time zone', () => {
  it('moves a Berlin 10:00 wait to 10:00 in New York, and sends once, then', () => {
    // 20:00 in Berlin on Jun 1, 2026.
    const h = createJourneyHarness(morningReminder, { start: Date.parse('2026-06-01T18:00:00Z') });
    h.identify('ada', { timezone: 'Europe/Berlin' });
    h.track('ada', 'Product Added', { name: 'Sencha' });
    expect(dueTimes(h, 'ada')).toEqual(['2026-06-02T08:00:00.000Z']);
    h.advance('2h');
    h.identify('ada', { timezone: 'America/New_York' });
    expect(dueTimes(h, 'ada')).toEqual(['2026-06-02T14:00:00.000Z']);
    h.advance('17h59m'); // 09:59 in New York, long past 10:00 in Berlin
    expect(h.sent('ada')).toEqual([]);
    h.advance('1m');
    expect(h.sent('ada').map((s) => [s.message, iso(s.at)])).toEqual([
      ['cart-reminder', '2026-06-02T14:00:00.000Z'],
    ]);
    h.advance('3d');
    expect(h.sent('ada')).toHaveLength(1);
    expect(h.instance('ada')).toMatchObject({ status: 'done', exitReason: 'reminded' });
  });

  it('fires at once when 10:00 in the new zone has passed since the wait began', () => {
    // 20:00 in New York on Jun 1; the wait is for 10:00 there (14:00Z on Jun 2).
    const h = createJourneyHarness(morningReminder, { start: Date.parse('2026-06-02T00:00:00Z') });
    h.identify('bo', { timezone: 'America/New_York' });
    h.track('bo', 'Product Added', { name: 'Oolong' });
    expect(dueTimes(h, 'bo')).toEqual(['2026-06-02T14:00:00.000Z']);
    h.advance('10h'); // 12:00 in Berlin: its 10:00 came after the wait began
    h.identify('bo', { timezone: 'Europe/Berlin' });
    expect(dueTimes(h, 'bo')).toEqual(['2026-06-02T10:00:00.000Z']);
    h.advance('0m');
    expect(h.sent('bo').map((s) => iso(s.at))).toEqual(['2026-06-02T10:00:00.000Z']);
    h.advance('2d');
    expect(h.sent('bo')).toHaveLength(1);
  });

  it('moves back to where it was when the customer moves back', () => {
    const h = createJourneyHarness(morningReminder, { start: Date.parse('2026-06-01T18:00:00Z') });
    h.identify('cy', { timezone: 'Europe/Berlin' });
    h.track('cy', 'Product Added', { name: 'Sencha' });
    h.identify('cy', { timezone: 'Asia/Tokyo' });
    expect(dueTimes(h, 'cy')).toEqual(['2026-06-02T01:00:00.000Z']);
    h.identify('cy', { timezone: 'Europe/Berlin' });
    expect(dueTimes(h, 'cy')).toEqual(['2026-06-02T08:00:00.000Z']);
  });

  it('follows the device’s zone while no timezone trait names one, and not once one does', () => {
    const start = Date.parse('2026-06-01T18:00:00Z');
    const h = createJourneyHarness(morningReminder, { start, timezone: 'Europe/Berlin' });
    h.track('di', 'Product Added', { name: 'Sencha' });
    h.identify('di', { deviceTimezone: 'America/New_York' });
    expect(dueTimes(h, 'di')).toEqual(['2026-06-02T14:00:00.000Z']);

    h.identify('ed', { timezone: 'Europe/Atlantis' }); // names no zone: the default's clock
    h.track('ed', 'Product Added', { name: 'Sencha' });
    h.identify('ed', { deviceTimezone: 'America/New_York' });
    expect(dueTimes(h, 'ed')).toEqual(['2026-06-02T14:00:00.000Z']);

    h.identify('fa', { timezone: 'Europe/Berlin' });
    h.track('fa', 'Product Added', { name: 'Sencha' });
    const before = h.pendingTimers('fa');
    h.identify('fa', { deviceTimezone: 'America/New_York' });
    expect(h.pendingTimers('fa')).toEqual(before);
  });

  it('leaves the wait alone on an identify that does not change the customer’s clock', () => {
    const h = createJourneyHarness(morningReminder, { start: Date.parse('2026-06-01T18:00:00Z') });
    h.identify('gu', { timezone: 'Europe/Berlin' });
    h.track('gu', 'Product Added', { name: 'Sencha' });
    const before = h.pendingTimers('gu');
    h.identify('gu', { email: 'gu@example.com' });
    h.identify('gu', { timezone: 'Europe/Berlin' });
    h.identify('gu', { timezone: ' Europe/Berlin ' });
    // Another zone with the same clocks: nothing to move.
    h.identify('gu', { timezone: 'Europe/Paris' });
    expect(h.pendingTimers('gu')).toEqual(before);
    expect(h.instance('gu')).toMatchObject({ status: 'active', state: 'waiting' });
  });

  it('moves only the local-time wait of a state that also waits a duration', () => {
    const h = createJourneyHarness(reminderOrGiveUp, { start: Date.parse('2026-06-01T18:00:00Z') });
    h.identify('ho', { timezone: 'Europe/Berlin' });
    h.track('ho', 'Product Added');
    const [duration] = h.pendingTimers('ho').filter((t) => t.sendId.includes('.2d.'));
    h.identify('ho', { timezone: 'America/New_York' });
    const after = h.pendingTimers('ho');
    expect(after.filter((t) => t.sendId.includes('.2d.'))).toEqual([duration]);
    expect(after.filter((t) => t.sendId.includes('local')).map((t) => iso(t.dueAt))).toEqual([
      '2026-06-02T14:00:00.000Z',
    ]);
    h.advance('1d');
    expect(h.instance('ho')).toMatchObject({ status: 'done', exitReason: 'reminded' });
    expect(h.sent('ho').map((s) => iso(s.at))).toEqual(['2026-06-02T14:00:00.000Z']);
    expect(h.pendingTimers('ho')).toEqual([]);
  });
});

describe('a local-time wait set before the instance kept when it began', () => {
  it('is moved to the next showing of its time in the new zone from the moment of the move', () => {
    const entered = Date.parse('2026-06-01T18:00:00Z'); // 20:00 in Berlin
    const { record } = enterInstance(
      morningReminder,
      'ada',
      'morning-reminder.1',
      1,
      { name: 'Sencha' },
      { timezone: 'Europe/Berlin' },
      entered,
    );
    expect(record.localWaits).toEqual({ [Object.keys(record.timers)[0]!]: entered });
    const { localWaits: _began, ...legacy } = record;
    const now = Date.parse('2026-06-02T06:00:00Z'); // 08:00 in Berlin, 02:00 in New York
    const moved = moveLocalTimeWaits(
      morningReminder,
      'ada',
      legacy,
      'Europe/Berlin',
      'America/New_York',
      now,
    );
    const schedule = moved?.commands.find((c) => c.type === 'schedule');
    expect(schedule && iso(schedule.dueAt)).toBe('2026-06-02T14:00:00.000Z');
    expect(moved?.record.localWaits).toEqual({ [schedule!.sendId]: now });
  });
});
