import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { assign, enqueueActions, fromCallback, fromPromise, raise, spawnChild } from 'xstate';
import { z } from 'zod';
import {
  CoreMessageCatalog,
  createJourneyHarness,
  defineJourney,
  JourneyCatalog,
  JourneyDefinitionError,
  JourneyValidationError,
  loadJourneyFolder,
  validateJourney,
} from '../../engine/index.js';

const messages = { has: (id: string) => id === 'welcome' };

function problemsOf(build: () => unknown): string[] {
  try {
    build();
  } catch (error) {
    if (error instanceof JourneyValidationError)
      return error.problems.map((p) => `${p.state ?? '-'}: ${p.message}`);
    throw error;
  }
  return [];
}

describe('loading a journey', () => {
  it('fails naming each state without a stage tag, with more than one, and each unknown message', () => {
    const journey = defineJourney({
      id: 'broken',
      version: 1,
      trigger: { event: 'Go' },
      events: { Go: z.object({}) },
      machine: (j) =>
        j.createMachine({
          initial: 'a',
          states: {
            a: { entry: j.send('missing-message', ['email']), on: { Go: 'b' } },
            b: {
              tags: ['awareness', 'loyalty'],
              initial: 'inner',
              states: { inner: { tags: 'loyalty', entry: j.send('welcome', ['email']) } },
            },
          },
        }),
    });
    const problems = problemsOf(() => new JourneyCatalog([journey], messages));
    expect(problems).toEqual([
      expect.stringMatching(/^a: State "a" has no stage tag\. To fix: add tags: 'awareness'/),
      expect.stringMatching(
        /^a: State "a" sends message "missing-message", which does not exist\. To fix: add templates\/missing-message\//,
      ),
      expect.stringMatching(/^b: State "b" has 2 stage tags \(awareness, loyalty\)/),
    ]);
  });

  it('names the tags of a state whose stage tag is misspelt, rather than ask for a tag it seems to have', () => {
    const journey = defineJourney({
      id: 'misspelt',
      version: 1,
      trigger: { event: 'Signed Up' },
      machine: (j) =>
        j.createMachine({
          initial: 'a',
          // @ts-expect-error a journey in JavaScript (or cast past the types) gets this far
          states: { a: { tags: ['awarness', 'vip'], type: 'final' } },
        }),
    });
    expect(validateJourney(journey, messages).map((p) => p.message)).toEqual([
      'State "a" has no stage tag: its tags (awarness, vip) are none of awareness, consideration, decision, loyalty. To fix: correct the one meant as its stage, or add one of those.',
    ]);
  });

  it('names once a missing message that several arms of a guard send', () => {
    const journey = defineJourney({
      id: 'guarded',
      version: 1,
      trigger: { event: 'Signed Up' },
      profile: z.object({ phone: z.string().optional() }),
      machine: (j) =>
        j.createMachine({
          initial: 'a',
          states: {
            a: {
              tags: 'awareness',
              always: [
                {
                  guard: ({ context }) => context.profile.phone !== undefined,
                  target: 'b',
                  actions: j.send('nudge', ['sms', 'email']),
                },
                { target: 'b', actions: j.send('nudge', ['email']) },
              ],
            },
            b: { tags: 'awareness', type: 'final' },
          },
        }),
    });
    expect(validateJourney(journey, messages).map((p) => p.message)).toEqual([
      'State "a" sends message "nudge", which does not exist. To fix: add templates/nudge/ or correct the id.',
    ]);
  });

  it('names the folder the messages were read from in the fix of a missing one', () => {
    const journey = defineJourney({
      id: 'elsewhere',
      version: 1,
      trigger: { event: 'Signed Up' },
      machine: (j) =>
        j.createMachine({
          initial: 'a',
          states: { a: { tags: 'awareness', entry: j.send('missing-message', ['email']) } },
        }),
    });
    const catalog = new CoreMessageCatalog([], 'brand/messages');
    expect(validateJourney(journey, catalog).map((p) => p.message)).toEqual([
      'State "a" sends message "missing-message", which does not exist. To fix: add brand/messages/missing-message/ or correct the id.',
    ]);
  });

  it('fails naming the state whose delay cannot be read, instead of letting xstate fire it at once', () => {
    const journey = defineJourney({
      id: 'bad-delay',
      version: 1,
      trigger: { event: 'Go' },
      machine: (j) =>
        j.createMachine({
          initial: 'a',
          // A delay built at run time escapes the DelayKey type, so the loader must catch it.
          states: {
            a: { tags: 'awareness', after: { [String('2 days')]: 'b' } as never },
            b: { tags: 'awareness', type: 'final' },
          },
        }),
    });
    expect(problemsOf(() => new JourneyCatalog([journey], messages))).toEqual([
      expect.stringMatching(/^a: State "a" waits for "2 days": Cannot read "2 days" as a duration/),
    ]);
  });

  it('checks the sends of transitions on the machine itself, which any state takes', () => {
    const journey = defineJourney({
      id: 'root-send',
      version: 1,
      trigger: { event: 'Go' },
      events: { 'Cart Viewed': z.object({}) },
      machine: (j) =>
        j.createMachine({
          initial: 'a',
          on: { 'Cart Viewed': { target: '.b', actions: j.send('missing-message', ['fax' as 'email']) } },
          states: { a: { tags: 'awareness' }, b: { tags: 'decision', type: 'final' } },
        }),
    });
    expect(problemsOf(() => new JourneyCatalog([journey], messages))).toEqual([
      expect.stringMatching(
        /^\(root\): State "\(root\)" sends message "missing-message", which does not exist/,
      ),
      expect.stringContaining('unknown channel "fax"'),
    ]);
  });

  it('refuses an actor invoked by the machine itself, as it does one invoked by a state', () => {
    const journey = defineJourney({
      id: 'root-invoke',
      version: 1,
      trigger: { event: 'Go' },
      machine: (j) =>
        j.createMachine({
          initial: 'a',
          invoke: { src: fromPromise(async () => 'looked up') },
          states: { a: { tags: 'awareness' } },
        } as never),
    });
    expect(problemsOf(() => new JourneyCatalog([journey], messages))).toEqual([
      expect.stringMatching(
        /^\(root\): State "\(root\)" invokes an actor, which a persisted journey cannot restore/,
      ),
    ]);
  });

  /** A journey of one state that sends the welcome on `channels`. */
  const sendingOn = (id: string, channels: string[]) =>
    defineJourney({
      id,
      version: 1,
      trigger: { event: 'Go' },
      machine: (j) =>
        j.createMachine({
          initial: 'a',
          states: {
            a: { tags: 'awareness', type: 'final', entry: j.send('welcome', channels as ['email']) },
          },
        }),
    });

  it('refuses the same id and version twice and a channel that does not exist', () => {
    const twice = [sendingOn('twice', ['email']), sendingOn('twice', ['fax'])];
    const problems = problemsOf(() => new JourneyCatalog(twice, messages));
    expect(problems).toEqual([
      expect.stringContaining('defined twice'),
      expect.stringContaining('unknown channel "fax"'),
    ]);
  });

  it('refuses a channel listed twice: a send falls back along the list once', () => {
    const journey = sendingOn('echo', ['email', 'push', 'email']);
    expect(problemsOf(() => new JourneyCatalog([journey], messages))).toEqual([
      expect.stringContaining('on email more than once'),
    ]);
  });

  it('rejects bad metadata at definition, naming the field', () => {
    const define = () =>
      defineJourney({
        id: 'Bad Id',
        version: 0,
        trigger: { event: 'Go' },
        machine: (j) => j.createMachine({ initial: 'a', states: { a: { tags: 'awareness' } } }),
      });
    expect(define).toThrow(JourneyDefinitionError);
    expect(define).toThrow(/id: lowercase letters.*version: Too small/s);
  });

  it('refuses a goal whose attribution window is 0, which no report could credit', () => {
    for (const window of [0, '0', '0d'])
      expect(() =>
        defineJourney({
          id: 'no-window',
          version: 1,
          trigger: { event: 'Go' },
          goal: { event: 'Bought', window },
          machine: (j) => j.createMachine({ initial: 'a', states: { a: { tags: 'awareness' } } }),
        }),
      ).toThrow(/goal\.window: must be longer than 0.*"7d"/s);
  });

  it('says "To fix:" once for a goal window it cannot read or that is 0', () => {
    for (const window of ['soon', 0]) {
      const defining = () =>
        defineJourney({
          id: 'bad-window',
          version: 1,
          trigger: { event: 'Go' },
          goal: { event: 'Bought', window },
          machine: (j) => j.createMachine({ initial: 'a', states: { a: { tags: 'awareness' } } }),
        });
      expect(defining).toThrow(JourneyDefinitionError);
      const message = (() => {
        try {
          defining();
        } catch (error) {
          return (error as Error).message;
        }
        return '';
      })();
      expect(message.split('To fix:')).toHaveLength(2);
    }
  });

  it('rejects a data schema that cannot start from an empty object', () => {
    expect(() =>
      defineJourney({
        id: 'data',
        version: 1,
        trigger: { event: 'Go' },
        data: z.object({ count: z.number() }),
        machine: (j) => j.createMachine({ initial: 'a', states: { a: { tags: 'awareness' } } }),
      }),
    ).toThrow(/count: .*To fix: give those fields a \.default\(\)/s);
  });

  it('starts new entries on the latest version and keeps older versions for customers in flight', () => {
    const version = (v: number) =>
      defineJourney({
        id: 'v',
        version: v,
        trigger: { event: 'Go' },
        machine: (j) => j.createMachine({ initial: 'a', states: { a: { tags: 'awareness' } } }),
      });
    const catalog = new JourneyCatalog([version(1), version(2)], messages);
    expect(catalog.triggeredBy('Go').map((j) => j.version)).toEqual([2]);
    expect(catalog.version('v', 1).version).toBe(1);
    expect(() => catalog.version('v', 3)).toThrow(/keep that version in journeys\//);
  });
});

describe('a split', () => {
  const withSplit =
    (arms: Record<string, { weight: number; target: string }>, options?: { control?: string }) => () =>
      defineJourney({
        id: 'subject-test',
        version: 1,
        trigger: { event: 'Go' },
        machine: (j) =>
          j.createMachine({
            initial: 'split',
            states: {
              split: { tags: 'awareness', always: j.split('subject', arms, options) },
              a: { tags: 'awareness', type: 'final' },
              b: { tags: 'awareness', type: 'final' },
            },
          }),
      });

  it('refuses weights that cannot share customers out, naming the split and the arm', () => {
    // A weight read from configuration that was not set: every customer would go to the last arm.
    expect(
      withSplit({ a: { weight: Number(undefined), target: 'a' }, b: { weight: 50, target: 'b' } }),
    ).toThrow(JourneyDefinitionError);
    expect(withSplit({ a: { weight: Number.NaN, target: 'a' }, b: { weight: 50, target: 'b' } })).toThrow(
      /split "subject".*arm "a" has weight NaN.*To fix/s,
    );
    expect(withSplit({ a: { weight: -10, target: 'a' }, b: { weight: 110, target: 'b' } })).toThrow(
      /arm "a" has weight -10/,
    );
    expect(withSplit({ a: { weight: 0, target: 'a' }, b: { weight: 0, target: 'b' } })).toThrow(
      /split "subject" has weights that add up to 0/,
    );
    // No arm at all: customers would wait in the split's state for ever.
    expect(withSplit({})).toThrow(/split "subject" has no arms/);
    // Each weight is a number, but their total is not: every share would be 0.
    expect(withSplit({ a: { weight: 1e308, target: 'a' }, b: { weight: 1e308, target: 'b' } })).toThrow(
      /split "subject" has weights that add up to Infinity, past the largest number\. To fix: /,
    );
  });

  it('refuses a split id with an `=`, which its counts use to part split from arm', () => {
    const define = () =>
      defineJourney({
        id: 'eq',
        version: 1,
        trigger: { event: 'Go' },
        machine: (j) =>
          j.createMachine({
            initial: 'split',
            states: {
              split: { tags: 'awareness', always: j.split('price=low', { a: { weight: 1, target: 'a' } }) },
              a: { tags: 'awareness', type: 'final' },
            },
          }),
      });
    expect(define).toThrow(JourneyDefinitionError);
    expect(define).toThrow(/split "price=low" has an "=" in its id.*To fix/s);
  });

  it('refuses a control that is no arm, or is the holdout, naming the arms it could be', () => {
    const arms = {
      a: { weight: 45, target: 'a' },
      b: { weight: 45, target: 'b' },
      holdout: { weight: 10, target: 'b' },
    };
    // A typo would fall back on the alphabetical rule without a word, and lifts would read inverted.
    expect(withSplit(arms, { control: 'B' })).toThrow(
      /split "subject" names "B" as its control, which is not one of its arms\. To fix: name one of "a", "b"\./,
    );
    expect(withSplit(arms, { control: 'holdout' })).toThrow(/the holdout, which receives nothing to compare/);
    expect(withSplit(arms, { control: 'b' })).not.toThrow();
  });

  it('takes an arm of weight 0 beside others, as a paused arm', () => {
    expect(withSplit({ a: { weight: 0, target: 'a' }, b: { weight: 100, target: 'b' } })).not.toThrow();
  });
});

describe('a state no customer can reach', () => {
  const journey = (initial: string, interested: Record<string, unknown>) =>
    defineJourney({
      id: 'unreached',
      version: 1,
      trigger: { event: 'Go' },
      events: { Viewed: z.object({}) },
      machine: (j) =>
        j.createMachine({
          initial,
          states: {
            welcomed: { tags: 'awareness', after: { '2d': 'lapsed' }, ...interested },
            interested: {
              tags: 'decision',
              initial: 'spotlight',
              states: {
                spotlight: { tags: 'decision', after: { '4h': 'reminded' } },
                reminded: { tags: 'decision', entry: j.send('welcome', ['email']), type: 'final' },
              },
              onDone: 'lapsed',
            },
            lapsed: { tags: 'decision', type: 'final' },
          },
        }),
    });

  it('is refused, naming it, when no transition leads to it: its sends would never go out', () => {
    expect(problemsOf(() => new JourneyCatalog([journey('welcomed', {})], messages))).toEqual([
      'interested: State "interested" is never entered: it is not an initial state, and no transition leads to it. ' +
        'To fix: add the transition that should lead to it (a target misspelt elsewhere would be refused, so one may be missing), or remove the state.',
      expect.stringMatching(/^interested\.spotlight: State "interested\.spotlight" is never entered/),
      expect.stringMatching(/^interested\.reminded: State "interested\.reminded" is never entered/),
    ]);
    expect(
      problemsOf(() => new JourneyCatalog([journey('welcomed', { on: { Viewed: 'interested' } })], messages)),
    ).toEqual([]);
  });

  it('is refused when the machine starts in a state it does not have, which would refuse every customer', () => {
    expect(
      problemsOf(() => new JourneyCatalog([journey('welcome', { on: { Viewed: 'interested' } })], messages)),
    ).toEqual([
      '(root): The machine starts in a state it does not have: `initial` is "welcome", and its states are ' +
        '"welcomed", "interested", "lapsed". To fix: name one of them in `initial`.',
    ]);
  });
});

describe('states that pass a customer round without waiting', () => {
  const looping = (states: Record<string, unknown>) =>
    defineJourney({
      id: 'looping',
      version: 1,
      trigger: { event: 'Go' },
      data: z.object({ n: z.number().default(0) }),
      machine: (j) => j.createMachine({ initial: 'a', states: states as never }),
    });
  const count = assign({
    data: ({ context }: { context: { data: { n: number } } }) => ({ n: context.data.n + 1 }),
  });

  it('are refused, naming them, since the first customer would loop for ever and the worker with them', () => {
    const journey = looping({
      a: { tags: 'awareness', always: 'b' },
      b: { tags: 'awareness', initial: 'b1', states: { b1: { tags: 'awareness', always: '#looping.a' } } },
      c: { tags: 'awareness', type: 'final' },
    });
    expect(problemsOf(() => new JourneyCatalog([journey], messages))).toEqual(
      expect.arrayContaining([
        'a: States "a" → "b.b1" → "a" hand a customer on to one another without waiting, as each one\'s first `always` transition has no guard: ' +
          'a customer entering would loop for ever, and the worker stepping them with them. To fix: give one of those transitions a guard that ends the loop, or wait (`after`) in between.',
      ]),
    );
    const counting = looping({ a: { tags: 'awareness', always: { actions: count } } });
    expect(problemsOf(() => new JourneyCatalog([counting], messages))).toEqual([
      expect.stringMatching(
        /^a: State "a" takes its own `always` transition again and again, as its first has no guard and changes the context/,
      ),
    ]);
  });

  it('are taken when a guard ends the loop, or a transition stays without changing anything', () => {
    const counted = looping({
      a: {
        tags: 'awareness',
        always: [
          {
            guard: ({ context }: { context: { data: { n: number } } }) => context.data.n >= 3,
            target: 'done',
          },
          { target: 'b', actions: count },
        ],
      },
      b: { tags: 'awareness', always: 'a' },
      done: { tags: 'awareness', type: 'final' },
    });
    expect(problemsOf(() => new JourneyCatalog([counted], messages))).toEqual([]);
    const staying = looping({
      a: { tags: 'awareness', always: 'a', after: { '1d': 'done' } },
      done: { tags: 'awareness', type: 'final' },
    });
    expect(problemsOf(() => new JourneyCatalog([staying], messages))).toEqual([]);
    const h = createJourneyHarness(counted);
    h.track('ada', 'Go');
    expect(h.instance('ada')).toMatchObject({ status: 'done', exitReason: 'done' });
  });
});

describe('a branch', () => {
  const branching = (nudge: Record<string, unknown>) => () =>
    new JourneyCatalog(
      [
        defineJourney({
          id: 'branching',
          version: 1,
          trigger: { event: 'Go' },
          profile: z.object({ phone: z.string().optional(), vip: z.boolean().optional() }),
          events: { Viewed: z.object({}) },
          machine: (j) =>
            j.createMachine({
              initial: 'nudge',
              states: {
                nudge: { tags: 'consideration', ...nudge },
                sms: { tags: 'decision', after: { '1d': 'email' } },
                email: { tags: 'decision', type: 'final' },
              },
            }),
        }),
      ],
      messages,
    );
  const bySms = {
    guard: ({ context }: { context: { profile: { phone?: string } } }) => context.profile.phone !== undefined,
    target: 'sms',
  };

  it('is refused, naming the state, when every branch is guarded and nothing else leaves it: a customer no guard takes would stay for ever', () => {
    expect(problemsOf(branching({ always: [bySms] }))).toEqual([
      expect.stringMatching(
        /^nudge: State "nudge" branches with `always`, every branch guarded, and has no other way out.*To fix: end the list with a branch without a guard/,
      ),
    ]);
  });

  it('is taken with a default branch, with a wait or an event to leave by, or as a split', () => {
    expect(problemsOf(branching({ always: [bySms, { target: 'email' }] }))).toEqual([]);
    expect(problemsOf(branching({ always: [bySms], after: { '1d': 'email' } }))).toEqual([]);
    expect(problemsOf(branching({ always: [bySms], on: { Viewed: 'email' } }))).toEqual([]);
    const split = defineJourney({
      id: 'split-only',
      version: 1,
      trigger: { event: 'Go' },
      machine: (j) =>
        j.createMachine({
          initial: 'split',
          states: {
            split: {
              tags: 'awareness',
              always: j.split('s', { a: { weight: 1, target: 'a' }, b: { weight: 1, target: 'b' } }),
            },
            a: { tags: 'awareness', type: 'final' },
            b: { tags: 'awareness', type: 'final' },
          },
        }),
    });
    expect(problemsOf(() => new JourneyCatalog([split], messages))).toEqual([]);
  });
});

describe('an event a state reacts to', () => {
  const made: string[] = [];
  afterAll(() => made.forEach((dir) => rmSync(dir, { recursive: true, force: true })));

  it('is refused when the journey does not declare it, as a misspelt name in a journey written in JavaScript, which would wait for ever', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'chorus-unheard-'));
    made.push(dir);
    writeFileSync(
      join(dir, 'welcome.mjs'),
      `import { z } from 'zod';\nimport { defineJourney } from '${pathToFileURL(resolve('engine/index.ts')).href}';\n` +
        `export const welcome = defineJourney({ id: 'welcome', version: 1, trigger: { event: 'Signed Up' },\n` +
        `  events: { 'Product Viewed': z.object({}) }, goal: { event: 'Order Completed' },\n` +
        `  machine: (j) => j.createMachine({ initial: 'welcomed', states: {\n` +
        `    welcomed: { tags: 'awareness', on: { 'Product Viewd': 'interested' } },\n` +
        `    interested: { tags: 'decision', on: { 'Order Completed': 'done' } },\n` +
        `    done: { tags: 'loyalty', type: 'final' } } }) });\n`,
    );
    const { journeys } = await loadJourneyFolder(dir);
    expect(problemsOf(() => new JourneyCatalog(journeys, messages))).toEqual([
      'welcomed: State "welcomed" reacts to "Product Viewd", which the journey does not declare, so it never reaches the machine. ' +
        'To fix: correct the name, or add it to events with the schema of its properties (declared: "Product Viewed", "Order Completed").',
    ]);
  });

  it('names as declared only the events a journey can be sent, not the events xstate raises for its waits', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'chorus-unheard-'));
    made.push(dir);
    writeFileSync(
      join(dir, 'welcome.mjs'),
      `import { z } from 'zod';\nimport { defineJourney } from '${pathToFileURL(resolve('engine/index.ts')).href}';\n` +
        `export const welcome = defineJourney({ id: 'welcome', version: 1, trigger: { event: 'Signed Up' },\n` +
        `  events: { 'Product Viewed': z.object({}) },\n` +
        `  machine: (j) => j.createMachine({ initial: 'welcomed', states: {\n` +
        `    welcomed: { tags: 'awareness', on: { 'Product Viewd': 'done' }, after: { '2d': 'done' } },\n` +
        `    done: { tags: 'loyalty', type: 'final' } } }) });\n`,
    );
    const { journeys } = await loadJourneyFolder(dir);
    expect(problemsOf(() => new JourneyCatalog(journeys, messages))).toEqual([
      'welcomed: State "welcomed" reacts to "Product Viewd", which the journey does not declare, so it never reaches the machine. ' +
        'To fix: correct the name, or add it to events with the schema of its properties (declared: "Product Viewed").',
    ]);
  });

  it('is refused when it is one of exitOn, which ends the instance before the machine sees it', () => {
    const journey = defineJourney({
      id: 'exits',
      version: 1,
      trigger: { event: 'Go' },
      events: { 'Account Deleted': z.object({}) },
      exitOn: ['Account Deleted'],
      machine: (j) =>
        j.createMachine({
          initial: 'a',
          states: {
            a: { tags: 'awareness', on: { 'Account Deleted': 'goodbye' } },
            goodbye: { tags: 'awareness', type: 'final', entry: j.send('welcome', ['email']) },
          },
        }),
    });
    expect(problemsOf(() => new JourneyCatalog([journey], messages))).toEqual([
      expect.stringMatching(
        /^a: State "a" reacts to "Account Deleted", which is in exitOn: the instance ends on it before the machine sees it\. To fix: /,
      ),
    ]);
  });

  it('is taken when it is declared, the goal, or raised by the journey itself', () => {
    const journey = defineJourney({
      id: 'hears',
      version: 1,
      trigger: { event: 'Go' },
      events: { Viewed: z.object({}) },
      goal: { event: 'Ordered' },
      machine: (j) =>
        j.createMachine({
          initial: 'a',
          states: {
            a: {
              tags: 'awareness',
              entry: raise({ type: 'Remind' } as never, { delay: '1d' }),
              on: { Viewed: 'b', Remind: 'b' } as never,
            },
            b: { tags: 'awareness', on: { Ordered: 'c' } as never },
            c: { tags: 'awareness', type: 'final' },
          },
        }),
    });
    expect(problemsOf(() => new JourneyCatalog([journey], messages))).toEqual([]);
  });
});

describe('a parallel state', () => {
  it('is refused, naming the state, since an instance is in one state and one stage at a time', () => {
    const journey = defineJourney({
      id: 'both-ways',
      version: 1,
      trigger: { event: 'Go' },
      events: { A: z.object({}), B: z.object({}) },
      machine: (j) =>
        j.createMachine({
          initial: 'both',
          states: {
            both: {
              tags: 'awareness',
              type: 'parallel',
              states: {
                left: {
                  tags: 'awareness',
                  initial: 'l1',
                  states: {
                    l1: { tags: 'awareness', on: { A: 'l2' } },
                    l2: { tags: 'decision', type: 'final' },
                  },
                },
                right: {
                  tags: 'awareness',
                  initial: 'r1',
                  states: {
                    r1: { tags: 'consideration', on: { B: 'r2' } },
                    r2: { tags: 'loyalty', type: 'final', entry: j.send('welcome', ['email']) },
                  },
                },
              },
              onDone: 'end',
            },
            end: { tags: 'loyalty', type: 'final' },
          },
        }),
    });
    expect(problemsOf(() => new JourneyCatalog([journey], messages))).toEqual([
      expect.stringMatching(
        /^both: State "both" is parallel: a customer would be in several states at once.* To fix: /,
      ),
    ]);
  });
});

describe('a spawned actor', () => {
  it('is refused, naming the state, as the inert runtime would never run it', () => {
    const journey = defineJourney({
      id: 'spawner',
      version: 1,
      trigger: { event: 'Go' },
      events: { 'Looked Up': z.object({}) },
      machine: (j) =>
        j.createMachine({
          initial: 'a',
          states: {
            a: {
              tags: 'awareness',
              entry: spawnChild(fromCallback(({ sendBack }) => sendBack({ type: 'Looked Up' }))),
              on: { 'Looked Up': 'b' } as never,
            },
            b: { tags: 'decision', type: 'final' },
          },
        }),
    });
    expect(problemsOf(() => new JourneyCatalog([journey], messages))).toEqual([
      expect.stringMatching(
        /^a: State "a" spawns an actor \(spawnChild\), which a persisted journey never runs and cannot restore\. To fix: /,
      ),
    ]);
  });
});

describe('enqueueActions', () => {
  it('is refused, naming the state, since the sends it may enqueue cannot be checked at load', () => {
    const journey = defineJourney({
      id: 'enqueuer',
      version: 1,
      trigger: { event: 'Go' },
      profile: z.object({ vip: z.boolean().optional() }),
      machine: (j) =>
        j.createMachine({
          initial: 'a',
          states: {
            a: {
              tags: 'awareness',
              // A message that does not exist, on a channel that does not either: neither was reported.
              entry: enqueueActions(({ context, enqueue }) => {
                if (context.profile.vip) enqueue(j.send('missing-message', ['fax' as 'email']));
              }),
            },
          },
        }),
    });
    expect(problemsOf(() => new JourneyCatalog([journey], messages))).toEqual([
      expect.stringMatching(
        /^a: State "a" runs enqueueActions, whose sends and waits are chosen only as it runs.* To fix: /,
      ),
    ]);
  });
});

describe('journey metadata that is not what defineJourney expects', () => {
  const machine = (j: { createMachine: (config: never) => unknown }) =>
    j.createMachine({ initial: 'a', states: { a: { tags: 'awareness' } } } as never);
  const define = (fields: Record<string, unknown>) => () =>
    defineJourney({ id: 'meta', version: 1, trigger: { event: 'Go' }, machine, ...fields } as never);

  it.each([
    [
      { trigger: {} },
      'trigger: expected { event: "Signed Up", properties?: a zod schema } (a track event) or { api: a zod schema } (the trigger API)',
    ],
    [{ trigger: { event: 'Go', properties: { plan: 'pro' } } }, 'trigger: expected { event: "Signed Up"'],
    [
      { events: { 'Product Viewed': { name: 'string' } } },
      'events.Product Viewed: expected a zod schema, such as z.object',
    ],
    [{ profile: { firstName: 'string' } }, 'profile: expected a zod schema'],
    [{ data: { coupon: 'WELCOME10' } }, 'data: expected a zod schema'],
    // Misspelt in a journey written in JavaScript: each was dropped, and its default taken.
    [{ reEntry: 'never' }, '(root): unknown field(s) "reEntry"; the fields are id, version, description'],
    [
      { goal: { event: 'Order Completed', exits: true } },
      'goal: unknown field(s) "exits"; the fields are event, exit, window',
    ],
    [{ exit_on: ['Account Deleted'] }, '(root): unknown field(s) "exit_on"'],
    [
      { trigger: { event: 'Go', propertes: z.object({ plan: z.string() }) } },
      'trigger: unknown field(s) "propertes"; the fields are event, properties',
    ],
    [{ machine: undefined }, 'machine: expected a function, (j) => j.createMachine({ … })'],
  ])('is refused naming the field and what it expected: %j', (fields, expected) => {
    expect(define(fields)).toThrow(JourneyDefinitionError);
    expect(define(fields)).toThrow(`Journey "meta" has invalid metadata: ${expected}`);
  });

  it('reads as one sentence, without doubled full stops', () => {
    expect(define({ goal: { event: 'Order Completed', window: '7 days' } })).toThrow(
      /goal\.window: cannot read "7 days" as a duration \(write .*"PT4H30M"\)\. To fix: correct the named fields/,
    );
    expect(() =>
      defineJourney({
        id: 'no-initial',
        version: 1,
        trigger: { event: 'Go' },
        machine: (j) => j.createMachine({ states: { a: { tags: 'awareness' } } } as never),
      }),
    ).toThrow(/to the state config\. To fix: correct the machine config/);
  });
});

describe('a final state inside a compound state', () => {
  const journey = (parent: Record<string, unknown>) =>
    defineJourney({
      id: 'nested-end',
      version: 1,
      trigger: { event: 'Go' },
      events: { Viewed: z.object({}) },
      machine: (j) =>
        j.createMachine({
          initial: 'interested',
          states: {
            interested: {
              tags: 'decision',
              initial: 'spotlight',
              states: {
                spotlight: {
                  tags: 'decision',
                  on: { Viewed: 'reminded' },
                  after: { '2d': '#nested-end.lapsed' },
                },
                reminded: { tags: 'decision', entry: j.send('welcome', ['email']), type: 'final' },
              },
              ...parent,
            },
            lapsed: { tags: 'decision', type: 'final' },
          },
        }),
    });

  it('is refused when nothing takes the customer on from it: only a top-level final state ends the journey', () => {
    expect(problemsOf(() => new JourneyCatalog([journey({})], messages))).toEqual([
      'interested.reminded: State "interested.reminded" is final, but it ends only its parent "interested", ' +
        'which has no onDone, nor any `on` or `after` around it to leave by: a customer reaching it stays in it ' +
        'for ever, never exiting the journey (nor entering it again, under the re-entry policy). To fix: give ' +
        '"interested" an onDone naming where the customer goes next (a top-level final state ends the journey), or move the state to the top level.',
    ]);
  });

  it('loads with an onDone on its parent, or a way out around it, and the customer then moves on', () => {
    expect(problemsOf(() => new JourneyCatalog([journey({ onDone: 'lapsed' })], messages))).toEqual([]);
    expect(problemsOf(() => new JourneyCatalog([journey({ after: { '2d': 'lapsed' } })], messages))).toEqual(
      [],
    );
    const h = createJourneyHarness(journey({ onDone: 'lapsed' }), { messages });
    h.track('ada', 'Go');
    h.track('ada', 'Viewed');
    expect(h.instance('ada')).toMatchObject({ status: 'done', exitReason: 'lapsed' });
  });
});
