import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { loadJourneyFolder } from '../../engine/index.js';
import { journeyModulePaths } from '../../engine/journey/load-journeys.js';

const engine = pathToFileURL(resolve('engine/index.ts')).href;

/** A module defining journey `id`, written as ES module syntax (valid in .ts, .mts, .js, .mjs). */
const esJourney = (id: string) =>
  `import { defineJourney } from '${engine}';\n` +
  `export const j = defineJourney({ id: '${id}', version: 1, trigger: { event: 'E' }, machine: (j) => j.createMachine({ initial: 'a', states: { a: { tags: 'awareness', type: 'final' } } }) });\n`;

describe('the files of a journeys folder', () => {
  const made: string[] = [];
  afterEach(() => made.splice(0).forEach((dir) => rmSync(dir, { recursive: true, force: true })));

  function folderWith(files: Record<string, string>): string {
    const dir = mkdtempSync(join(tmpdir(), 'chorus-journey-files-'));
    made.push(dir);
    for (const [name, source] of Object.entries(files)) writeFileSync(join(dir, name), source);
    return dir;
  }

  it('takes every module extension Node and tsx import, and leaves out declarations, tests and hidden files', () => {
    const dir = folderWith(
      Object.fromEntries(
        [
          'a.ts',
          'b.mts',
          'c.cts',
          'd.js',
          'e.mjs',
          'f.cjs',
          'types.d.ts',
          'types.d.mts',
          'types.d.cts',
          'a.test.ts',
          'a.spec.mts',
          '._a.ts',
          '.draft.ts',
          'notes.md',
          'data.json',
        ].map((name) => [name, '']),
      ),
    );
    expect(journeyModulePaths(dir).map((path) => basename(path))).toEqual([
      'a.ts',
      'b.mts',
      'c.cts',
      'd.js',
      'e.mjs',
      'f.cjs',
    ]);
  });

  it('loads a journey written in a .mts file', async () => {
    const dir = folderWith({ 'welcome.mts': esJourney('welcome'), 'later.ts': esJourney('later') });
    const folder = await loadJourneyFolder(dir);
    expect(folder.journeys.map((journey) => journey.id).sort()).toEqual(['later', 'welcome']);
  });
});
