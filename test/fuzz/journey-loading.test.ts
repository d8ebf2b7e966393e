import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ChorusError, defineJourney, JourneyCatalog, loadJourneyFolder } from '../../engine/index.js';
import { validateProject } from '../../engine/cli/validate-project.js';
import { fuzzParams, prototypeSnapshot, RUNS } from './fuzz-support.js';
import { hostileString } from './hostile-values.js';

const prototypes = prototypeSnapshot();
const made: string[] = [];
afterAll(() => {
  for (const dir of made) rmSync(dir, { recursive: true, force: true });
});

const messages = { has: (id: string) => id === 'welcome' };

const stateName = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom('a', 'b', 'done') },
  {
    weight: 2,
    arbitrary: fc.constantFrom('__proto__', 'constructor', 'toString', 'a.b', '#x', 'a\r\nb', '', '*'),
  },
  { weight: 1, arbitrary: hostileString },
);
const tags = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom('awareness', 'consideration', 'decision', 'loyalty') },
  {
    weight: 1,
    arbitrary: fc.constantFrom<unknown>(['awareness', 'decision'], [], undefined, 'nope', 42, null),
  },
  { weight: 1, arbitrary: hostileString },
);
const delay = fc.oneof(
  fc.constantFrom<string | number>(
    '90s',
    '4h',
    '2d',
    '1h30m',
    'P2D',
    '2days',
    '-1s',
    '0',
    '1e999',
    'NaN',
    1000,
    -5,
    0,
  ),
  hostileString,
);
const send = fc.record({
  message: fc.oneof(fc.constantFrom('welcome', '__proto__', 'constructor'), hostileString),
  channels: fc.array(fc.oneof(fc.constantFrom('email', 'sms', 'push', 'in-app', 'webhook'), hostileString), {
    maxLength: 3,
  }),
});

interface StateSpec {
  tags: unknown;
  final: boolean;
  after: Array<[string | number, string]>;
  on: Array<[string, string]>;
  send: { message: string; channels: string[] } | null;
}

const stateSpec: fc.Arbitrary<StateSpec> = fc.record({
  tags,
  final: fc.boolean(),
  after: fc.array(fc.tuple(delay, stateName), { maxLength: 2 }),
  on: fc.array(fc.tuple(fc.oneof(fc.constantFrom('E', 'Order Completed'), hostileString), stateName), {
    maxLength: 2,
  }),
  send: fc.option(send, { freq: 2 }),
});

/** `Object.fromEntries` defines own keys, so a state named `__proto__` really is one. */
const own = <V>(entries: ReadonlyArray<readonly [PropertyKey, V]>) =>
  Object.fromEntries(entries) as Record<string, V>;

describe('fuzzing journey definitions', () => {
  it('defines and validates a hostile journey, or refuses it with a Chorus error naming the journey', () => {
    fc.assert(
      fc.property(
        fc.record({
          id: fc.oneof(fc.constantFrom('fuzz', 'a-b', '__proto__', 'constructor'), hostileString),
          version: fc.constantFrom<unknown>(1, 2, 0, -1, 1.5, Number.NaN, Infinity, '1'),
          event: fc.oneof(fc.constantFrom('Signed Up', '__proto__', ''), hostileString),
          initial: stateName,
          states: fc.array(fc.tuple(stateName, stateSpec), { minLength: 1, maxLength: 4 }),
          goal: fc.option(fc.oneof(fc.constantFrom('Order Completed', '__proto__'), hostileString)),
          eventNames: fc.array(fc.oneof(fc.constantFrom('E', '__proto__', 'constructor'), hostileString), {
            maxLength: 2,
          }),
        }),
        (spec) => {
          try {
            const journey = defineJourney({
              id: spec.id,
              version: spec.version as number,
              trigger: { event: spec.event },
              events: own(spec.eventNames.map((name) => [name, z.object({})] as const)),
              ...(spec.goal === null ? {} : { goal: { event: spec.goal } }),
              machine: (j) =>
                j.createMachine({
                  initial: spec.initial,
                  states: own(
                    spec.states.map(([name, state]) => [
                      name,
                      {
                        ...(state.tags === undefined ? {} : { tags: state.tags }),
                        ...(state.final ? { type: 'final' } : {}),
                        ...(state.after.length > 0 ? { after: own(state.after) } : {}),
                        ...(state.on.length > 0 ? { on: own(state.on) } : {}),
                        ...(state.send
                          ? { entry: j.send(state.send.message as never, state.send.channels as never) }
                          : {}),
                      },
                    ]),
                  ),
                } as never),
            });
            new JourneyCatalog([journey], messages);
          } catch (error) {
            expect(error, String(error)).toBeInstanceOf(ChorusError);
            const chorus = error as ChorusError;
            expect(chorus.code).toMatch(/^CHORUS_[A-Z_]+$/);
            expect(chorus.message).toMatch(/Journey|journey|@/);
            expect(chorus.message).toContain('To fix');
          }
          prototypes.expectUnchanged();
        },
      ),
      fuzzParams(RUNS * 4),
    );
  });
});

describe('loading hostile journey modules', () => {
  const engine = pathToFileURL(resolve('engine/index.ts')).href;
  const zod = import.meta.resolve('zod');
  const header = `import { z } from '${zod}';\nimport { defineJourney, defineWebhookSource } from '${engine}';\n`;
  const journey = (patch: string) =>
    `${header}export const j = defineJourney({ id: 'x', version: 1, trigger: { event: 'E' }, machine: (j) => j.createMachine(${patch}) });\n`;

  const MODULES: Record<string, string | Buffer> = {
    'a syntax error': 'export const = ;',
    'a throw of a number': 'throw 42;',
    'a throw of null': 'throw null;',
    'a throw of an object': 'throw { message: 5 };',
    'a Proxy that throws when looked at':
      'export const p = new Proxy({}, { get() { throw new Error("boom"); } });',
    'the journey brand on a plain object':
      'export const f = { [Symbol.for("chorus.journey")]: true, id: "__proto__" };',
    'the webhook-source brand on a plain object':
      'export const s = { [Symbol.for("chorus.webhook-source")]: true };',
    'a journey id __proto__': `${header}export const j = defineJourney({ id: '__proto__', version: 1, trigger: { event: 'E' }, machine: (j) => j.createMachine({ initial: 'a', states: { a: { tags: 'awareness', type: 'final' } } }) });`,
    'an initial state that does not exist': journey(
      `{ initial: 'nope', states: { a: { tags: 'awareness', type: 'final' } } }`,
    ),
    'a target that does not exist': journey(
      `{ initial: 'a', states: { a: { tags: 'awareness', on: { E: 'nope' } } } }`,
    ),
    'an after delay that cannot be read': journey(
      `{ initial: 'a', states: { a: { tags: 'awareness', after: { '2days': 'a' } } } } as never`,
    ),
    'a webhook source id with CRLF': `${header}export const s = defineWebhookSource({ id: 'a\\r\\nb', payload: z.object({}), toTrack: () => undefined });`,
    'a huge string': `export const big = "${'x'.repeat(3_000_000)}";`,
    'bytes that are not UTF-8': Buffer.concat([
      Buffer.from('export const s = "'),
      Buffer.from([0xff, 0xfe]),
      Buffer.from('";'),
    ]),
  };

  it.each(Object.entries(MODULES))(
    '%s: loads, or is refused with a Chorus error naming the file',
    async (_name, source) => {
      const dir = mkdtempSync(join(tmpdir(), 'chorus-fuzz-journeys-'));
      made.push(dir);
      writeFileSync(join(dir, 'module.ts'), source);
      try {
        const folder = await loadJourneyFolder(dir);
        new JourneyCatalog(folder.journeys, messages);
      } catch (error) {
        expect(error, String(error)).toBeInstanceOf(ChorusError);
        expect((error as ChorusError).code).toMatch(/^CHORUS_[A-Z_]+$/);
        expect((error as Error).message).toMatch(/module\.ts|x@1|Journey|journey/);
      }
      const report = await validateProject({ journeys: dir, templates: 'templates' });
      for (const problem of report.problems) expect(problem.text.length).toBeGreaterThan(10);
      prototypes.expectUnchanged();
    },
  );
});
