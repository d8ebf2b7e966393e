import { expect, it } from 'vitest';
import { z } from 'zod';
import { createJourneyHarness, defineJourney } from '../../engine/index.js';

// A profile that lists exactly the traits the journey reads, as a strict schema refuses others.
const strict = defineJourney({
  id: 'strict-profile',
  version: 1,
  trigger: { event: 'Signed Up' },
  profile: z.object({ phone: z.string().optional() }).strict(),
  machine: (j) =>
    j.createMachine({
      initial: 'welcomed',
      states: { welcomed: { tags: 'awareness', entry: j.send('welcome', ['sms', 'email']) } },
    }),
});

it('keeps a consent trait out of the profile, as the engine records it as consent instead', () => {
  const h = createJourneyHarness(strict);
  h.identify('ada', { phone: '+15550100', consent: { sms: { marketing: true } } });
  expect(h.profile('ada')).toEqual({ phone: '+15550100' });
  h.track('ada', 'Signed Up');
  expect(h.instance('ada')).toMatchObject({ status: 'active', state: 'welcomed' });
  expect(h.sent('ada').map((s) => s.message)).toEqual(['welcome']);
});
