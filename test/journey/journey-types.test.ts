import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { defineJourney } from '../../engine/index.js';

// Each `@ts-expect-error` below is a mistake a journey author must see at compile time: `npm test`
// runs `tsc --noEmit`, which fails if any of these lines stops being an error.
const typed = () =>
  defineJourney({
    id: 'typed',
    version: 1,
    trigger: { event: 'Signed Up', properties: z.object({ plan: z.enum(['free', 'pro']) }) },
    profile: z.object({ firstName: z.string().optional() }),
    events: { 'Product Viewed': z.object({ name: z.string() }) },
    data: z.object({ views: z.number().default(0) }),
    machine: (j) =>
      j.createMachine({
        initial: 'a',
        states: {
          a: {
            tags: 'awareness',
            // @ts-expect-error a delay that is not a duration
            after: { '2days': 'b' },
            on: {
              'Product Viewed': {
                target: 'b',
                // @ts-expect-error a property the event does not declare
                guard: ({ event }) => event.properties.nam === 'x',
              },
              // @ts-expect-error an event the journey does not declare
              'Order Placed': 'b',
            },
          },
          b: {
            tags: 'consideration',
            // @ts-expect-error a channel that does not exist
            entry: j.send('welcome', ['fax']),
            always: {
              target: 'c',
              guard: ({ context }) =>
                // @ts-expect-error a trait the profile schema does not list
                context.profile.lastName === 'x' ||
                // @ts-expect-error the trigger's plan is 'free' | 'pro'
                context.trigger.plan === 'gold' ||
                // @ts-expect-error data.views is a number
                context.data.views === 'many',
            },
          },
          // @ts-expect-error a tag that is not a funnel stage (awareness, consideration, decision, loyalty)
          c: { tags: 'awarness', type: 'final' },
        },
      }),
  });

describe('journey types', () => {
  it('still builds a journey at run time from the definition above', () => {
    expect(typed().id).toBe('typed');
  });
});
