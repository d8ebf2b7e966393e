import { describe, expect, it } from 'vitest';
import { assign } from 'xstate';
import { z } from 'zod';
import {
  CommandExecutor,
  createJourneyHarness,
  defineJourney,
  JourneyDefinitionError,
  JourneyValidationError,
} from '../../engine/index.js';
import { morningReminder } from '../../docs/examples/morning-journey.js';

const iso = (ms: number) => new Date(ms).toISOString();

describe('j.atLocalTime: waiting until a time of day on the customer’s clock', () => {
  it('waits until 10:00 in the customer’s time zone, 13 hours across New York’s spring forward', () => {
    // 20:00 EST on Saturday Mar 7, 2026; the clocks go forward that night.
    const h = createJourneyHarness(morningReminder, { start: Date.parse('2026-03-08T01:00:00Z') });
    h.identify('ada', { timezone: 'America/New_York' });
    h.track('ada', 'Product Added', { name: 'Sencha' });
    const [timer] = h.pendingTimers('ada');
    expect(iso(timer!.dueAt)).toBe('2026-03-08T14:00:00.000Z');
    expect(timer!.delayMs).toBe(13 * 3_600_000);
    h.advance('12h59m');
    expect(h.sent('ada')).toEqual([]);
    h.advance('1m');
    expect(h.sent('ada').map((s) => [s.message, iso(s.at), s.whenCapped])).toEqual([
      ['cart-reminder', '2026-03-08T14:00:00.000Z', 'skip'],
    ]);
  });

  it('falls back to the harness’s (the engine’s) default zone, and from a bad trait too', () => {
    const start = Date.parse('2026-10-24T20:00:00Z');
    const h = createJourneyHarness(morningReminder, { start, timezone: 'Europe/Berlin' });
    h.track('bo', 'Product Added', { name: 'Oolong' });
    h.identify('cy', { timezone: 'Europe/Atlantis' });
    h.track('cy', 'Product Added', { name: 'Oolong' });
    // Berlin falls back on Oct 25: 10:00 CET is 09:00Z.
    expect(h.pendingTimers().map((t) => iso(t.dueAt))).toEqual([
      '2026-10-25T09:00:00.000Z',
      '2026-10-25T09:00:00.000Z',
    ]);
  });

  it('measures from the moment the state is entered: Asia/Shanghai, no DST, same hour every day', () => {
    const h = createJourneyHarness(morningReminder, { start: Date.parse('2026-03-29T01:59:00Z') });
    h.identify('di', { timezone: 'Asia/Shanghai' });
    h.track('di', 'Product Added', { name: 'Pu-erh' }); // 09:59 in Shanghai
    expect(h.pendingTimers('di').map((t) => t.delayMs)).toEqual([60_000]);
    h.advance('1m');
    expect(h.instance('di')).toMatchObject({ status: 'done', exitReason: 'reminded' });
  });

  it('is a BullMQ delay like any other: TIME_SCALE divides it', () => {
    const h = createJourneyHarness(morningReminder, { start: Date.parse('2026-06-01T00:00:00Z') });
    h.track('ed', 'Product Added', { name: 'Sencha' });
    const [timer] = h.pendingTimers('ed');
    expect(timer!.delayMs).toBe(10 * 3_600_000);
    const executor = new CommandExecutor({ timeScale: 3600 } as never);
    expect(executor.realDelay(timer!, timer!.dueAt - timer!.delayMs)).toBe(10_000);
  });

  it('is checked when the journey loads: a time that is not HH:MM, written either way', () => {
    const make = (delay: (j: { atLocalTime(t: `${number}:${number}`): string }) => string) =>
      defineJourney({
        id: 'bad-time',
        version: 1,
        trigger: { event: 'Go' },
        machine: (j) =>
          j.createMachine({
            initial: 'a',
            states: {
              a: { tags: 'awareness', after: { [delay(j)]: 'b' } },
              b: { tags: 'awareness', type: 'final' },
            },
          }),
      });
    expect(() => make((j) => j.atLocalTime('25:00'))).toThrow(JourneyDefinitionError);
    const journey = make(() => '9:5 local');
    expect(() => createJourneyHarness(journey)).toThrow(JourneyValidationError);
    expect(() => createJourneyHarness(journey)).toThrow(/waits for "9:5 local".*HH:MM local/);
  });
});

describe('j.send options', () => {
  const journey = (whenCapped?: unknown) =>
    defineJourney({
      id: 'capped',
      version: 1,
      trigger: { event: 'Go' },
      profile: z.object({}).loose(),
      machine: (j) =>
        j.createMachine({
          initial: 'a',
          states: {
            a: {
              tags: 'awareness',
              type: 'final',
              entry: j.send(
                'welcome',
                ['email'],
                whenCapped === undefined ? undefined : { whenCapped: whenCapped as never },
              ),
            },
          },
        }),
    });

  it('carries whenCapped onto the send, and leaves it out when the journey does not say', () => {
    const h = createJourneyHarness([journey('wait')]);
    h.track('ada', 'Go');
    expect(h.sent('ada')[0]).toMatchObject({ whenCapped: 'wait' });
    const plain = createJourneyHarness([journey()]);
    plain.track('ada', 'Go');
    expect(plain.sent('ada')[0]).not.toHaveProperty('whenCapped');
  });

  it('refuses a whenCapped other than wait or skip at load time', () => {
    expect(() => createJourneyHarness([journey('later')])).toThrow(
      /whenCapped "later". To fix: use 'wait' or 'skip'/,
    );
  });
});

describe('j.atLocalTime in a loop', () => {
  // Three days at 09:00 on the customer's clock: the wait's timer fires at 09:00 sharp, and the
  // state it leads back to waits for the next 09:00.
  const daily = defineJourney({
    id: 'daily-digest',
    version: 1,
    trigger: { event: 'Subscribed' },
    data: z.object({ digests: z.number().default(0) }),
    machine: (j) =>
      j.createMachine({
        initial: 'waiting',
        states: {
          waiting: { tags: 'loyalty', after: { [j.atLocalTime('09:00')]: 'digest' } },
          digest: {
            tags: 'loyalty',
            entry: [
              j.send('digest', ['email']),
              assign({ data: ({ context }) => ({ digests: context.data.digests + 1 }) }),
            ],
            always: [
              { guard: ({ context }) => context.data.digests >= 3, target: 'done' },
              { target: 'waiting' },
            ],
          },
          done: { tags: 'loyalty', type: 'final' },
        },
      }),
  });

  it('sends once a day, each wait entered at 09:00 sharp waiting for the next day’s 09:00', () => {
    const h = createJourneyHarness(daily, { start: Date.parse('2026-06-01T06:00:00Z') });
    h.identify('ada', { timezone: 'Europe/Berlin' });
    h.track('ada', 'Subscribed');
    h.advance('1d');
    expect(h.pendingTimers('ada').map((t) => [iso(t.dueAt), t.delayMs])).toEqual([
      ['2026-06-02T07:00:00.000Z', 86_400_000],
    ]);
    h.advance('2d');
    expect(h.sent('ada').map((s) => iso(s.at))).toEqual([
      '2026-06-01T07:00:00.000Z',
      '2026-06-02T07:00:00.000Z',
      '2026-06-03T07:00:00.000Z',
    ]);
  });

  it('sends once on the night the clocks go back over its time, which they show twice', () => {
    const nightly = defineJourney({
      id: 'nightly-digest',
      version: 1,
      trigger: { event: 'Subscribed' },
      data: z.object({ digests: z.number().default(0) }),
      machine: (j) =>
        j.createMachine({
          initial: 'waiting',
          states: {
            waiting: { tags: 'loyalty', after: { [j.atLocalTime('01:30')]: 'digest' } },
            digest: {
              tags: 'loyalty',
              entry: [
                j.send('digest', ['email']),
                assign({ data: ({ context }) => ({ digests: context.data.digests + 1 }) }),
              ],
              always: [
                { guard: ({ context }) => context.data.digests >= 3, target: 'done' },
                { target: 'waiting' },
              ],
            },
            done: { tags: 'loyalty', type: 'final' },
          },
        }),
    });
    // New York's clocks go back from 02:00 EDT to 01:00 EST on Nov 1: 01:30 shows at 05:30Z and 06:30Z.
    const h = createJourneyHarness(nightly, { start: Date.parse('2026-10-31T12:00:00Z') });
    h.identify('ada', { timezone: 'America/New_York' });
    h.track('ada', 'Subscribed');
    h.advance('3d');
    expect(h.sent('ada').map((s) => iso(s.at))).toEqual([
      '2026-11-01T05:30:00.000Z',
      '2026-11-02T06:30:00.000Z',
      '2026-11-03T06:30:00.000Z',
    ]);
  });

  it('waits a whole day when the state is entered at the time itself', () => {
    const h = createJourneyHarness(daily, { start: Date.parse('2026-06-01T09:00:00Z') });
    h.track('bo', 'Subscribed');
    expect(h.pendingTimers('bo').map((t) => iso(t.dueAt))).toEqual(['2026-06-02T09:00:00.000Z']);
  });
});
