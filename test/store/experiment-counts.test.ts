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

/** Converts on any order, and keeps going: the post-purchase split comes after the order. */
const postPurchase = defineJourney({
  id: 'post-purchase',
  version: 1,
  trigger: { event: 'Signed Up' },
  goal: { event: 'Order Completed' },
  events: { Delivered: z.object({}) },
  machine: (j) =>
    j.createMachine({
      initial: 'waiting',
      states: {
        waiting: { tags: 'consideration', on: { Delivered: 'split' } },
        split: {
          tags: 'loyalty',
          always: j.split('review-ask', {
            control: { weight: 1, target: 'asked' },
            short: { weight: 1, target: 'asked' },
          }),
        },
        asked: { tags: 'loyalty' },
      },
    }),
});

const catalog = new JourneyCatalog([postPurchase], { has: () => true });
const track = (name: string, i: number): CustomerEvent => ({
  v: 1,
  kind: 'track',
  id: `e${i}`,
  customerId: 'ada',
  name,
  properties: {},
  timestamp: i,
});

/**
 * The experiment counts the way the worker moves them, each batch compared with its start, and
 * the ones a recount makes from the instances at the end.
 */
function armCounts(batches: string[][]): { live: Record<string, number>; recount: Record<string, number> } {
  let customer: CustomerState = { customerId: 'ada', profile: {}, instances: new Map() };
  const live: Record<string, number> = {};
  let i = 0;
  for (const batch of batches) {
    const before = customer.instances;
    const changed = new Set<string>();
    for (const name of batch) {
      const result = applyEvent(customer, track(name, ++i), i * 1000, catalog);
      customer = result.customer;
      for (const id of result.changed) changed.add(id);
    }
    const records = [...changed].map((id) => customer.instances.get(id)!);
    for (const [field, by] of countDeltas(before, records).get('post-purchase') ?? [])
      if (field.includes('|variant')) live[field] = (live[field] ?? 0) + by;
  }
  const recount: Record<string, number> = {};
  const final: InstanceRecord[] = [...customer.instances.values()];
  for (const [field, by] of countDeltas(new Map(), final).get('post-purchase') ?? [])
    if (field.includes('|variant')) recount[field] = by;
  return { live, recount };
}

describe("a split's conversions", () => {
  const events = ['Signed Up', 'Order Completed', 'Delivered'];

  it('count an instance that reached the goal before it was assigned its arm, as a recount does', () => {
    const { live, recount } = armCounts(events.map((name) => [name]));
    expect(Object.values(recount)).toEqual([1, 1]);
    expect(live).toEqual(recount);
  });

  it('come out the same however the worker batches the events', () => {
    const oneByOne = armCounts(events.map((name) => [name]));
    expect(armCounts([events]).live).toEqual(oneByOne.live);
    expect(armCounts([events.slice(0, 2), events.slice(2)]).live).toEqual(oneByOne.live);
  });
});
