import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { raise } from 'xstate';
import {
  createJourneyHarness,
  defineJourney,
  JourneyCatalog,
  JourneyValidationError,
  type Journey,
} from '../../engine/index.js';

/** The problems loading `journey` finds, as `<state>: <message>`. */
function loadProblems(journey: Journey): string[] {
  try {
    new JourneyCatalog([journey], { has: () => true });
    return [];
  } catch (error) {
    if (!(error instanceof JourneyValidationError)) throw error;
    return error.problems.map((p) => `${p.state ?? '-'}: ${p.message}`);
  }
}

/** A journey that raises `Remind` after `delay` on entry and moves on when it comes. */
const reminder = (delay: string) =>
  defineJourney({
    id: 'raised',
    version: 1,
    trigger: { event: 'Signed Up' },
    machine: (j) =>
      j.createMachine({
        initial: 'waiting',
        states: {
          waiting: {
            tags: 'awareness',
            entry: raise({ type: 'Remind' } as never, { delay: delay as '2d' }),
            on: { Remind: 'reminded' } as never,
          },
          reminded: { tags: 'consideration', type: 'final', entry: j.send('nudge', ['email']) },
        },
      }),
  });

describe('an event raised after a named delay', () => {
  it('is raised once the delay has passed, through a durable timer, not at once', () => {
    const h = createJourneyHarness(reminder('2d'));
    h.track('u1', 'Signed Up');
    expect(h.state('u1')).toBe('waiting');
    expect(h.pendingTimers('u1')).toEqual([
      expect.objectContaining({ eventType: 'Remind', delayMs: 2 * 86_400_000 }),
    ]);
    h.advance('47h');
    expect(h.sent('u1')).toEqual([]);
    h.advance('1h');
    expect(h.instance('u1')).toMatchObject({ status: 'done', exitReason: 'reminded' });
    expect(h.sent('u1').map((s) => s.message)).toEqual(['nudge']);
  });

  it.each([
    ['2 days', /^waiting: State "waiting" waits for "2 days": Cannot read "2 days" as a duration/],
    [
      '10:00 local',
      /^waiting: State "waiting" waits for "10:00 local": a raised event cannot wait until a local time/,
    ],
  ])('fails loading, naming the state, when its delay is %s', (delay, problem) => {
    const problems = loadProblems(reminder(delay));
    expect(problems).toEqual([expect.stringMatching(problem)]);
  });

  it.each([
    ['the state itself', 'waiting'],
    ['another state', 'elsewhere'],
  ])('fails loading when it waits for a local time that %s also waits for with after', (_where, waiter) => {
    const journey = defineJourney({
      id: 'raised-local',
      version: 1,
      trigger: { event: 'Signed Up' },
      events: { Go: z.object({}) },
      machine: (j) =>
        j.createMachine({
          initial: 'elsewhere',
          states: {
            elsewhere: {
              tags: 'awareness',
              on: { Go: 'waiting' } as never,
              ...(waiter === 'elsewhere' ? { after: { [j.atLocalTime('10:00')]: 'waiting' } } : {}),
            },
            waiting: {
              tags: 'awareness',
              entry: raise({ type: 'Remind' } as never, { delay: '10:00 local' as '2d' }),
              on: { Remind: 'reminded' } as never,
              ...(waiter === 'waiting' ? { after: { [j.atLocalTime('10:00')]: 'reminded' } } : {}),
            },
            reminded: { tags: 'consideration', type: 'final' },
          },
        }),
    });
    const problems = loadProblems(journey);
    expect(problems).toEqual([
      expect.stringMatching(
        /^waiting: State "waiting" waits for "10:00 local": a raised event cannot wait until a local time/,
      ),
    ]);
  });
});

describe('two delayed raises of one event', () => {
  /** Raises `Remind` after a day on entry, then again after two days in the next state. */
  const twice = defineJourney({
    id: 'twice',
    version: 1,
    trigger: { event: 'Signed Up' },
    events: { Go: z.object({}) },
    machine: (j) =>
      j.createMachine({
        initial: 'first',
        states: {
          first: {
            tags: 'awareness',
            entry: raise({ type: 'Remind' } as never, { delay: '1d' }),
            on: { Go: 'second' },
          },
          second: {
            tags: 'awareness',
            entry: raise({ type: 'Remind' } as never, { delay: '2d' }),
            on: { Remind: 'reminded' } as never,
          },
          reminded: { tags: 'consideration', on: { Remind: 'again' } as never },
          again: { tags: 'consideration', type: 'final' },
        },
      }),
  });

  it('both fire, as in xstate, where each raise without an id has one of its own', () => {
    const h = createJourneyHarness(twice);
    h.track('u1', 'Signed Up');
    h.advance('1h');
    h.track('u1', 'Go');
    expect(h.pendingTimers('u1')).toHaveLength(2);
    h.advance('23h');
    expect(h.state('u1')).toBe('reminded');
    h.advance('25h');
    expect(h.instance('u1')).toMatchObject({ status: 'done', exitReason: 'again' });
  });
});

describe('a delayed raise of an event with more than its type', () => {
  it('is refused, naming the state and the fields that would be lost', () => {
    const journey = defineJourney({
      id: 'raised-payload',
      version: 1,
      trigger: { event: 'Signed Up' },
      machine: (j) =>
        j.createMachine({
          initial: 'waiting',
          states: {
            waiting: {
              tags: 'awareness',
              entry: [
                raise({ type: 'Remind', properties: { tier: 'gold' } } as never, { delay: '1d' }),
                raise(() => ({ type: 'Remind' }) as never, { delay: 3_600_000 }),
                // Immediate raises keep their fields: xstate handles them within the step.
                raise({ type: 'Now', properties: { tier: 'gold' } } as never),
              ],
              on: { Remind: 'reminded' } as never,
            },
            reminded: { tags: 'consideration', type: 'final' },
          },
        }),
    });
    const problems = loadProblems(journey);
    expect(problems).toEqual([
      expect.stringMatching(
        /^waiting: State "waiting" raises "Remind" with properties after a delay, but a delayed event comes back as its type alone.* To fix: /,
      ),
      expect.stringMatching(/^waiting: State "waiting" raises an event computed by a function after a delay/),
    ]);
  });
});
