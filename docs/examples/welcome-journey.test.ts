import { expect, it } from 'vitest';
import { createJourneyHarness } from '../../engine/index.js';
import { welcome } from './welcome-journey.js';

it('nudges by SMS two days after sign-up when the profile has a phone', () => {
  const h = createJourneyHarness(welcome);
  h.identify('ada', { phone: '+15550100' });
  h.track('ada', 'Signed Up', { plan: 'pro' });
  expect(h.stage('ada')).toBe('awareness');
  h.advance('2d');
  expect(h.sent('ada').map((s) => [s.message, s.channels[0]])).toEqual([
    ['welcome', 'email'],
    ['nudge', 'sms'],
  ]);
  expect(h.instance('ada')).toMatchObject({ status: 'done', exitReason: 'lapsed' });
});

it('exits on the goal, wherever the customer is', () => {
  const h = createJourneyHarness(welcome);
  h.track('bo', 'Signed Up', { plan: 'free' });
  h.track('bo', 'Order Completed', { revenue: 42 });
  expect(h.instance('bo')).toMatchObject({ status: 'done', exitReason: 'goal', convertedAt: h.clock.now() });
  expect(h.pendingTimers('bo')).toEqual([]);
});
