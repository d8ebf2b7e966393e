import { defineJourney, type DelayKey } from '../engine/index.js';

/**
 * A journey entered on `event` that waits `delay` in `waiting`, then ends in `done`: a customer
 * parked in it holds one instance snapshot and one pending timer job.
 */
export function waitJourney(id: string, event: string, delay: DelayKey) {
  return defineJourney({
    id,
    version: 1,
    trigger: { event },
    machine: (j) =>
      j.createMachine({
        initial: 'waiting',
        states: {
          waiting: { tags: 'consideration', after: { [delay]: 'done' } },
          done: { tags: 'loyalty', type: 'final' },
        },
      }),
  });
}
