import { z } from 'zod';
import { describe, expect, it } from 'vitest';
import { createJourneyHarness, defineJourney, JourneyValidationError } from '../../engine/index.js';

/** Version 1 reminds after a day; version 2 after an hour, with another message. */
const reminder = (version: 1 | 2) =>
  defineJourney({
    id: 'reminder',
    version,
    trigger: { event: 'Signed Up' },
    events: { Done: z.object({}) },
    machine: (j) =>
      j.createMachine({
        initial: 'waiting',
        states: {
          waiting: {
            tags: 'awareness',
            after: { [version === 1 ? '1d' : '1h']: 'reminded' },
            on: { Done: 'done' },
          },
          reminded: { tags: 'decision', type: 'final', entry: j.send(`reminder-v${version}`, ['email']) },
          done: { tags: 'decision', type: 'final' },
        },
      }),
  });

describe('a journey redeployed in the harness', () => {
  it('keeps customers in flight on their version while new entries take the latest', () => {
    const h = createJourneyHarness(reminder(1));
    h.track('early', 'Signed Up');
    h.deploy(reminder(2));
    h.track('late', 'Signed Up');
    expect(h.instance('early')).toMatchObject({ journeyVersion: 1, state: 'waiting' });
    expect(h.instance('late')).toMatchObject({ journeyVersion: 2, state: 'waiting' });
    h.advance('1h');
    expect(h.sent().map((s) => [s.customerId, s.message, s.journeyVersion])).toEqual([
      ['late', 'reminder-v2', 2],
    ]);
    h.advance('23h');
    expect(h.sent('early').map((s) => [s.message, s.journeyVersion])).toEqual([['reminder-v1', 1]]);
    // Back again after finishing: the latest version.
    h.track('early', 'Signed Up');
    expect(h.instances('early').map((i) => i.journeyVersion)).toEqual([1, 2]);
  });

  it('refuses a version already loaded and keeps what it ran', () => {
    const h = createJourneyHarness([reminder(1), reminder(2)]);
    expect(() => h.deploy(reminder(2))).toThrow(JourneyValidationError);
    h.track('ada', 'Signed Up');
    expect(h.instance('ada')?.journeyVersion).toBe(2);
  });
});
