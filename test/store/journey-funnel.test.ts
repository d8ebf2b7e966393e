import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  applyEvent,
  defineJourney,
  JourneyCatalog,
  type CustomerEvent,
  type CustomerState,
  type InstanceRecord,
} from '../../engine/index.js';
import { countDeltas } from '../../engine/store/journey-counts.js';

/** Hot and cold by turns: the customer moves back a stage, and on again, before leaving. */
const seesaw = defineJourney({
  id: 'seesaw',
  version: 1,
  trigger: { event: 'Start' },
  events: { Hot: z.object({}), Cool: z.object({}), Done: z.object({}) },
  machine: (j) =>
    j.createMachine({
      initial: 'cold',
      states: {
        cold: { tags: 'awareness', on: { Hot: 'hot' } },
        hot: { tags: 'decision', on: { Cool: 'warm', Done: 'done' } },
        warm: { tags: 'consideration', on: { Hot: 'hot' } },
        done: { tags: 'decision', type: 'final' },
      },
    }),
});

const catalog = new JourneyCatalog([seesaw], { has: () => true });
const track = (name: string, i: number): CustomerEvent => ({
  v: 1,
  kind: 'track',
  id: `e${i}`,
  customerId: 'ada',
  name,
  properties: {},
  timestamp: 0,
});

/**
 * The live counts the way the worker moves them: each batch's instances compared with the
 * batch's start. Returns the funnel they add up to, and the one a recount makes from the end.
 */
function funnel(batches: string[][]): { live: Record<string, number>; recount: Record<string, number> } {
  let customer: CustomerState = { customerId: 'ada', profile: {}, instances: new Map() };
  const live: Record<string, number> = {};
  let i = 0;
  for (const batch of batches) {
    const before = customer.instances;
    const changed = new Set<string>();
    for (const name of batch) {
      const result = applyEvent(customer, track(name, i++), i * 1000, catalog);
      customer = result.customer;
      for (const id of result.changed) changed.add(id);
    }
    const records = [...changed].map((id) => customer.instances.get(id)!);
    for (const [field, by] of countDeltas(before, records).get('seesaw') ?? [])
      if (field.includes('|reached|')) live[field] = (live[field] ?? 0) + by;
  }
  const recount: Record<string, number> = {};
  const final: InstanceRecord[] = [...customer.instances.values()];
  for (const [field, by] of countDeltas(new Map(), final).get('seesaw') ?? [])
    if (field.includes('|reached|')) recount[field] = by;
  return { live, recount };
}

describe("a journey's funnel", () => {
  const once = { '1|reached|awareness': 1, '1|reached|consideration': 1, '1|reached|decision': 1 };

  it('counts an instance once in the furthest stage it reached, also after it moved back a stage and on again', () => {
    const { live, recount } = funnel([['Start'], ['Hot'], ['Cool'], ['Hot'], ['Done']]);
    expect(live).toEqual(once);
    expect(recount).toEqual(once);
  });

  it('comes out the same however the worker batches the events', () => {
    expect(
      funnel([
        ['Start', 'Hot', 'Cool'],
        ['Hot', 'Done'],
      ]).live,
    ).toEqual(once);
    expect(funnel([['Start'], ['Hot', 'Cool']]).live).toEqual(once);
    expect(funnel([['Start'], ['Hot', 'Cool']]).recount).toEqual(once);
  });
});
