import { cpSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { ChorusError, loadTemplates, MessageRenderer, TemplateValidationError } from '../../engine/index.js';
import { validateProject } from '../../engine/cli/validate-project.js';
import { fuzzParams, prototypeSnapshot, RUNS } from './fuzz-support.js';
import { hostileKey, hostileString, jsonObjectText, jsonText, objectText, str } from './hostile-values.js';

const BASE = 'test/fixtures/templates-render';
const prototypes = prototypeSnapshot();
const made: string[] = [];
afterAll(() => {
  for (const dir of made) rmSync(dir, { recursive: true, force: true });
});

/** A copy of a valid templates folder to spoil. */
function copyOfBase(): string {
  const dir = mkdtempSync(join(tmpdir(), 'chorus-fuzz-templates-'));
  made.push(dir);
  cpSync(BASE, dir, { recursive: true });
  return dir;
}

const INVALID_UTF8 = [
  Buffer.from([0xff]),
  Buffer.from([0xc0, 0xaf]),
  Buffer.from([0xed, 0xa0, 0x80]),
  Buffer.from([0x80]),
];

/** Pieces templates are made of, good and bad, to be strung together. */
const fragment = fc.oneof(
  fc.constantFrom(
    '{{message.headline}}',
    '{{message.cta.url}}',
    '{{message.cta.label}}',
    '{{{message.proposition}}}',
    '{{json message.headline}}',
    '{{#if profile.firstName}}',
    '{{/if}}',
    '{{else}}',
    '{{#each x}}',
    '{{/each}}',
    '{{> layout.html}}',
    '{{> __proto__}}',
    '{{> constructor}}',
    '{{constructor.constructor "return process"}}',
    '{{lookup this "__proto__"}}',
    '{{#with __proto__}}{{polluted}}{{/with}}',
    '{{x',
    '}}',
    '{{!-- ',
    '{{#if}}',
    '{{nope 1}}',
    '{{default profile.firstName "there"}}',
    '{{formatDate "not a date"}}',
    '{{currency "x" "XXX"}}',
    '{{plural}}',
    '<a href="{{message.cta.url}}">',
    '"{{profile.firstName}}"',
    '{"text": {{json message.headline}}, "url": {{json message.cta.url}}}',
  ),
  hostileString,
);
const templateText = fc.array(fragment, { maxLength: 8 }).map((parts) => parts.join(' '));

const coreMessage = objectText({
  id: str(fc.oneof(fc.constant('hello'), hostileString)),
  proposition: str(fc.oneof(fc.constant('Two cups, one pot.'), hostileString)),
  headline: str(fc.oneof(fc.constant('Tea for two'), hostileString)),
  cta: fc.oneof(
    objectText({
      label: str(fc.oneof(fc.constant('Pour a cup'), hostileString)),
      url: str(
        fc.oneof(fc.constantFrom('https://example.com/tea', 'javascript:alert(1)', 'ftp://x'), hostileString),
      ),
    }),
    jsonText,
  ),
  keyPhrase: str(hostileString),
  webhook: objectText({
    url: str(fc.constantFrom('https://hooks.example.com/x', 'file:///etc/passwd', 'x')),
  }),
  topic: str(fc.oneof(fc.constantFrom('marketing', 'transactional'), hostileString)),
});

type Mutation = (dir: string) => void;

/** Writes a file whatever an earlier mutation left there (a folder, no parent). */
function put(path: string, data: string | Buffer): void {
  rmSync(path, { recursive: true, force: true });
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, data);
}
const file = fc.constantFrom(...readdirSync(join(BASE, 'hello')).filter((name) => name.endsWith('.hbs')));
const folder = fc.constantFrom('hello', 'spotlight', '_brand');

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  coreMessage.map((text) => (dir: string) => put(join(dir, 'hello', 'message.json'), text)),
  jsonObjectText.map((text) => (dir: string) => put(join(dir, 'spotlight', 'message.json'), text)),
  fc
    .constantFrom(
      '[]',
      'null',
      '',
      '{"id":"hello","__proto__":{"polluted":1},"proposition":"a","headline":"Tea for two","cta":{"label":"l","url":"https://example.com/tea"}}',
      `{"id":"hello","deep":${'['.repeat(50_000)}${']'.repeat(50_000)}}`,
      `{"id":"hello","proposition":"${'x'.repeat(2_000_000)}","headline":"Tea for two","cta":{"label":"l","url":"https://example.com/tea"}}`,
    )
    .map((text) => (dir: string) => put(join(dir, 'hello', 'message.json'), text)),
  fc.tuple(file, templateText).map(
    ([name, text]) =>
      (dir: string) =>
        put(join(dir, 'hello', name), text),
  ),
  fc.tuple(file, fc.constantFrom(...INVALID_UTF8), fc.nat(20)).map(([name, bad, at]) => (dir: string) => {
    const text = Buffer.from('{{message.headline}} {{message.cta.url}} and more text');
    put(join(dir, 'hello', name), Buffer.concat([text.subarray(0, at), bad, text.subarray(at)]));
  }),
  fc
    .constantFrom(...INVALID_UTF8)
    .map(
      (bad) => (dir: string) =>
        put(
          join(dir, 'spotlight', 'message.json'),
          Buffer.concat([
            Buffer.from('{"id":"spotlight","proposition":"'),
            bad,
            Buffer.from('","headline":"h","cta":{"label":"l","url":"https://example.com/x"}}'),
          ]),
        ),
    ),
  file.map((name) => (dir: string) => {
    rmSync(join(dir, 'hello', name), { recursive: true, force: true });
    mkdirSync(join(dir, 'hello', name));
  }),
  file.map((name) => (dir: string) => rmSync(join(dir, 'hello', name), { recursive: true, force: true })),
  fc
    .tuple(
      folder,
      fc.oneof(hostileKey, fc.constantFrom('__proto__', 'constructor', 'toString', 'email.html', 'sms.hbs')),
      templateText,
    )
    .map(([where, name, text]) => (dir: string) => {
      // A name the file system refuses (a slash, NUL) is no file anyone could add.
      if (/[/\0]/.test(name) || name === '' || name === '.' || name === '..') return;
      put(join(dir, where, `${name}.hbs`), text);
    }),
  fc.constantFrom<Mutation>(
    (dir) => mkdirSync(join(dir, 'empty-message'), { recursive: true }),
    (dir) => mkdirSync(join(dir, 'Upper_Case'), { recursive: true }),
    (dir) =>
      put(
        join(dir, 'hello', 'webhook.json.hbs'),
        '{"text":"{{message.headline}}","url":"{{message.cta.url}}"}',
      ),
    (dir) => put(join(dir, 'hello', 'sms.hbs'), 'No headline and no link here.'),
    (dir) => put(join(dir, 'hello', 'sms.hbs'), `{{#if a}}`.repeat(3000) + '{{/if}}'.repeat(3000)),
    (dir) => rmSync(join(dir, '_brand'), { recursive: true, force: true }),
  ),
);

/** Every problem says where: a message id, the brand folder, or a file of the folder. */
function expectLocated(error: unknown, dir: string): void {
  expect(error, String(error)).toBeInstanceOf(ChorusError);
  const chorus = error as ChorusError;
  expect(chorus.code).toMatch(/^CHORUS_[A-Z_]+$/);
  expect(chorus.message).toContain('To fix');
  if (chorus instanceof TemplateValidationError) {
    for (const problem of chorus.problems) {
      const where = [problem.message, problem.file, problem.journey].filter(Boolean);
      expect(where.length > 0 || /Brand partial|Message "/.test(problem.text), problem.text).toBe(true);
    }
  } else expect(chorus.message, chorus.message).toContain(basename(dir));
}

describe('fuzzing template loading', () => {
  it('loads a spoiled templates folder or refuses it with a Chorus error that says where; chorus validate reports it', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(mutation, { minLength: 1, maxLength: 3 }), async (mutations) => {
        const dir = copyOfBase();
        try {
          for (const mutate of mutations) mutate(dir);
          try {
            // Loading passes only templates that render: every channel is rendered with placeholders.
            const templates = loadTemplates(dir);
            expect(() => new MessageRenderer(templates)).not.toThrow();
          } catch (error) {
            expectLocated(error, dir);
          }
          const report = await validateProject({ journeys: join(dir, 'no-journeys'), templates: dir });
          for (const problem of report.problems) expect(problem.text.length).toBeGreaterThan(10);
          prototypes.expectUnchanged();
        } finally {
          rmSync(dir, { recursive: true, force: true });
        }
      }),
      fuzzParams(RUNS),
    );
  });

  it('refuses bytes that are not UTF-8 in a template, naming the file', () => {
    const dir = copyOfBase();
    writeFileSync(
      join(dir, 'hello', 'sms.hbs'),
      Buffer.concat([Buffer.from('{{message.headline}} '), Buffer.from([0xff])]),
    );
    expect(() => loadTemplates(dir)).toThrow(/hello\/sms\.hbs is not valid UTF-8/);
  });

  it('refuses a folder where a template file should be, naming it, and chorus validate reports it', async () => {
    const dir = copyOfBase();
    rmSync(join(dir, 'hello', 'sms.hbs'));
    mkdirSync(join(dir, 'hello', 'sms.hbs'));
    expect(() => loadTemplates(dir)).toThrow(/hello\/sms\.hbs cannot be read \(EISDIR\)/);
    const report = await validateProject({ journeys: join(dir, 'none'), templates: dir });
    expect(report.problems.map((p) => p.text).join('\n')).toMatch(
      /CHORUS_MESSAGE_INVALID: .*sms\.hbs cannot be read/,
    );
  });
});
