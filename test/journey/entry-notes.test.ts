import { expect, it } from 'vitest';
import { createJourneyHarness, defineJourney } from '../../engine/index.js';

/** A global control group: the holdout leaves at once, the others are welcomed. */
const controlled = defineJourney({
  id: 'controlled',
  version: 1,
  trigger: { event: 'Signed Up' },
  machine: (j) =>
    j.createMachine({
      initial: 'assign',
      states: {
        assign: {
          tags: 'awareness',
          always: j.split('control', {
            holdout: { weight: 1, target: 'held' },
            treated: { weight: 0, target: 'welcomed' },
          }),
        },
        welcomed: { tags: 'awareness', entry: j.send('welcome', ['email']), after: { '1d': 'held' } },
        held: { tags: 'awareness', type: 'final' },
      },
    }),
});

it('notes an entry before the exit of a customer who leaves the journey as they enter it', () => {
  const h = createJourneyHarness(controlled);
  h.track('ada', 'Signed Up');
  expect(h.instance('ada')).toMatchObject({
    status: 'done',
    exitReason: 'held',
    variants: { control: 'holdout' },
  });
  expect(h.notes('ada').map((n) => [n.kind, n.journeyId])).toEqual([
    ['entered', 'controlled'],
    ['exited', 'controlled'],
  ]);
});
