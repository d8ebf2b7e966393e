import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  applyEvent,
  defineJourney,
  JourneyCatalog,
  type CustomerEvent,
  type CustomerState,
} from '../../engine/index.js';

/** Version 1 as first deployed, with `reminded`, and as edited afterwards without it. */
function versionOne(edited: boolean) {
  return defineJourney({
    id: 'onboard',
    version: 1,
    trigger: { event: 'Signed Up' },
    events: { Go: z.object({}) },
    machine: (j) =>
      j.createMachine({
        initial: 'welcomed',
        states: {
          welcomed: { tags: 'awareness', on: { Go: edited ? 'done' : 'reminded' } },
          ...(edited
            ? {}
            : { reminded: { tags: 'consideration', on: { Go: 'done' }, after: { '1d': 'done' } } }),
          done: { tags: 'decision', type: 'final' },
        },
      }),
  });
}

const messages = { has: () => true };
const track = (name: string, n: number): CustomerEvent => ({
  v: 1,
  kind: 'track',
  id: `e${n}`,
  customerId: 'ada',
  name,
  properties: {},
  timestamp: n,
});

describe('a customer in a state their version no longer has', () => {
  const deployed = new JourneyCatalog([versionOne(false)], messages);
  const edited = new JourneyCatalog([versionOne(true)], messages);
  let ada: CustomerState = { customerId: 'ada', profile: {}, instances: new Map() };
  ada = applyEvent(ada, track('Signed Up', 1), 1, deployed).customer;
  ada = applyEvent(ada, track('Go', 2), 2, deployed).customer;
  const fix =
    /version 1 of journey onboard has no state "reminded".*To fix: put the state back in version 1/s;

  it('has the event set aside with the reason and the fix, which is to change versions by adding one', () => {
    const { notes } = applyEvent(ada, track('Go', 3), 3, edited);
    expect(notes).toEqual([
      expect.objectContaining({ kind: 'rejected', reason: expect.stringMatching(fix) }),
    ]);
  });

  it('fails on its timer with the same reason', () => {
    const [record] = [...ada.instances.values()];
    const timer = Object.values(record!.timers)[0]!;
    const event: CustomerEvent = {
      v: 1,
      kind: 'timer',
      id: timer,
      customerId: 'ada',
      instanceId: record!.id,
      timestamp: 4,
    };
    const { customer } = applyEvent(ada, event, 4, edited);
    expect(customer.instances.get(record!.id)).toMatchObject({
      status: 'failed',
      error: expect.stringMatching(fix),
    });
  });
});
