import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createJourneyHarness, defineJourney } from '../../engine/index.js';
import { onboarding } from '../fixtures/journeys/onboarding.js';

/** Greets by name when the profile has one; `email` is a trait the journey cannot go without. */
const greeting = defineJourney({
  id: 'greeting',
  version: 1,
  trigger: { event: 'Signed Up' },
  profile: z.object({ email: z.string(), firstName: z.string().optional(), vip: z.boolean().optional() }),
  machine: (j) =>
    j.createMachine({
      initial: 'waiting',
      states: {
        waiting: { tags: 'awareness', after: { '1d': 'choose' } },
        choose: {
          tags: 'awareness',
          always: [
            {
              guard: ({ context }) => context.profile.vip === true,
              target: 'done',
              actions: j.send('vip', ['email']),
            },
            { target: 'done', actions: j.send('standard', ['email']) },
          ],
        },
        done: { tags: 'awareness', type: 'final' },
      },
    }),
});

describe('a trait of another type than the profile schema says', () => {
  it('is read as missing by a waiting customer, whose journey goes on down the branch for a missing trait', () => {
    const h = createJourneyHarness(onboarding);
    h.track('ada', 'Signed Up', { plan: 'pro' });
    // A CDP that sends the phone number as a number.
    h.identify('ada', { phone: 15550100, firstName: 'Ada' });
    h.advance('2d');
    expect(h.instance('ada')).toMatchObject({ status: 'active', state: 'nudged' });
    expect(h.sent('ada').map((s) => [s.message, s.channels[0]])).toEqual([
      ['welcome', 'email'],
      ['nudge', 'email'],
    ]);
  });

  it('does not keep the customer from entering', () => {
    const h = createJourneyHarness(greeting);
    h.identify('bo', { email: 'bo@example.com', vip: 'yes' });
    h.track('bo', 'Signed Up');
    expect(h.instance('bo')).toMatchObject({ status: 'active', state: 'waiting' });
    h.advance('1d');
    expect(h.instance('bo')).toMatchObject({ status: 'done', exitReason: 'done' });
    expect(h.sent('bo').map((s) => s.message)).toEqual(['standard']);
  });

  it('does not hide the traits of the right type beside it', () => {
    const h = createJourneyHarness(greeting);
    h.identify('cy', { email: 'cy@example.com', vip: true, firstName: 42 });
    h.track('cy', 'Signed Up');
    h.advance('1d');
    expect(h.sent('cy').map((s) => s.message)).toEqual(['vip']);
  });

  it('still keeps out a customer when it is a trait the schema requires, naming it', () => {
    const h = createJourneyHarness(greeting);
    h.identify('di', { email: 12 });
    h.track('di', 'Signed Up');
    expect(h.instance('di')).toBeUndefined();
    expect(h.notes('di')).toEqual([
      expect.objectContaining({ kind: 'rejected', reason: expect.stringContaining('traits.email') }),
    ]);
  });
});
