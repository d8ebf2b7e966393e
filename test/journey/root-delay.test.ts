import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  createJourneyHarness,
  defineJourney,
  JourneyCatalog,
  JourneyValidationError,
} from '../../engine/index.js';

const messages = { has: () => true };

/** A journey that gives up on the customer thirty days after they entered, in whatever state. */
const deadline = (delay: string) =>
  defineJourney({
    id: 'deadline',
    version: 1,
    trigger: { event: 'Signed Up' },
    events: { 'Cart Viewed': z.object({}) },
    machine: (j) =>
      j.createMachine({
        initial: 'browsing',
        // A wait on the machine itself (beside `states`) runs from entry whatever the state.
        after: { [delay as '30d']: '.expired' },
        states: {
          browsing: { tags: 'awareness', on: { 'Cart Viewed': 'carted' } },
          carted: { tags: 'decision' },
          expired: { tags: 'decision', type: 'final' },
        },
      }),
  });

describe('a wait on the machine itself', () => {
  it('waits for its delay instead of firing at once', () => {
    const h = createJourneyHarness(deadline('30d'));
    h.track('u1', 'Signed Up', {});
    expect(h.state('u1')).toBe('browsing');
    h.track('u1', 'Cart Viewed', {});
    h.advance('29d');
    expect(h.state('u1')).toBe('carted');
    h.advance('1d');
    expect(h.state('u1')).toBe('expired');
  });

  it('fails loading when its delay cannot be read', () => {
    let problems: string[] = [];
    try {
      new JourneyCatalog([deadline('30 days')], messages);
    } catch (error) {
      if (!(error instanceof JourneyValidationError)) throw error;
      problems = error.problems.map((p) => `${p.state ?? '-'}: ${p.message}`);
    }
    expect(problems).toEqual([
      expect.stringMatching(/^\(root\): State "\(root\)" waits for "30 days": Cannot read "30 days"/),
    ]);
  });
});
