import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { formatProjectReport, validateProject } from '../../engine/cli/validate-project.js';
import { JourneyCatalog, loadJourneyFolder } from '../../engine/index.js';

describe('validateProject', () => {
  it('finds nothing wrong with journeys and templates the engine would start with', async () => {
    const dirs = { journeys: 'test/fixtures/cli/journeys', templates: 'test/fixtures/cli/templates' };
    const report = await validateProject(dirs);
    expect(report).toEqual({
      journeys: ['tea-welcome@2', 'tea-welcome@1'],
      messages: ['nudge', 'welcome'],
      webhookSources: [],
      problems: [],
    });
    expect(formatProjectReport(report, dirs)).toBe(
      'OK: 2 journey(s) in test/fixtures/cli/journeys/ (tea-welcome@2, tea-welcome@1), ' +
        '2 message(s) in test/fixtures/cli/templates/ (nudge, welcome). No problems found.\n',
    );
    // Folders given with a trailing slash, as a shell completes them, are named with one.
    expect(
      formatProjectReport(report, { journeys: `${dirs.journeys}/`, templates: `${dirs.templates}//` }),
    ).toBe(formatProjectReport(report, dirs));
  });

  it('reports every problem of every journey and template, past a module that fails to import', async () => {
    const dirs = {
      journeys: 'test/fixtures/cli/broken-journeys',
      templates: 'test/fixtures/cli/broken-templates',
    };
    const report = await validateProject(dirs);
    expect(report.problems).toEqual([
      {
        area: 'journeys',
        text: expect.stringMatching(
          /^CHORUS_JOURNEY_DEFINITION: Could not load .*b-throws\.ts: this module is broken on purpose$/,
        ),
      },
      {
        area: 'journeys',
        text: expect.stringMatching(/^unstaged@1 \(state start\): State "start" has no stage tag\./),
      },
      {
        area: 'journeys',
        text: expect.stringMatching(
          /^unstaged@1 \(state start\): State "start" sends message "missing", which does not exist\./,
        ),
      },
      {
        area: 'journeys',
        text: expect.stringMatching(
          /^still-checked@1 \(state greeted\): State "greeted" sends message "nudge"/,
        ),
      },
      {
        area: 'templates',
        text: expect.stringMatching(/email\.subject\.hbs line 1 calls helper "shout", which does not exist/),
      },
    ]);
    const text = formatProjectReport(report, dirs);
    expect(text).toMatch(/^5 problem\(s\) found in 2 journey\(s\)/);
    expect(text).toContain('\n5. [templates] Message "welcome", channel email: ');
  });

  it('names every message.json that cannot be read, not only the first', async () => {
    const templates = mkdtempSync(join(tmpdir(), 'chorus-validate-'));
    try {
      for (const [id, json] of [
        ['a-broken', '{not json'],
        [
          'b-fine',
          JSON.stringify({
            id: 'b-fine',
            proposition: 'p',
            headline: 'h',
            cta: { label: 'l', url: 'https://example.com' },
          }),
        ],
        [
          'c-headless',
          JSON.stringify({
            id: 'c-headless',
            proposition: 'p',
            cta: { label: 'l', url: 'https://example.com' },
          }),
        ],
      ] as const) {
        mkdirSync(join(templates, id));
        writeFileSync(join(templates, id, 'message.json'), json);
      }
      const report = await validateProject({ journeys: 'test/fixtures/cli/journeys', templates });
      expect(report.problems.filter((p) => p.area === 'templates').map((p) => p.text)).toEqual([
        expect.stringMatching(/^CHORUS_MESSAGE_INVALID: .*a-broken\/message\.json is not valid JSON/),
        expect.stringMatching(/^CHORUS_MESSAGE_INVALID: .*c-headless\/message\.json is invalid: headline: /),
      ]);
    } finally {
      rmSync(templates, { recursive: true, force: true });
    }
  });

  it('counts a journey exported twice (by name and as default, or re-exported) once', async () => {
    const dirs = {
      journeys: 'test/fixtures/journeys-exported-twice',
      templates: 'test/fixtures/cli/templates',
    };
    const report = await validateProject(dirs, { webhookSourceSecrets: { shop: ['whsec_c2VjcmV0'] } });
    expect(report).toMatchObject({ journeys: ['welcome@1'], webhookSources: ['shop'], problems: [] });
    const folder = await loadJourneyFolder(dirs.journeys);
    expect(folder.journeys.map((journey) => journey.id)).toEqual(['welcome']);
    expect(folder.webhookSources.map((source) => source.id)).toEqual(['shop']);
    expect(() => new JourneyCatalog(folder.journeys, { has: () => true })).not.toThrow();
  });

  it('says which folder is missing instead of failing on it', async () => {
    const report = await validateProject({ journeys: 'no/such/journeys', templates: 'no/such/templates' });
    expect(report.problems.map((p) => p.text)).toEqual([
      expect.stringMatching(
        /^The journeys folder no\/such\/journeys does not exist \(looked for from .+\)\. To fix: .*JOURNEYS_DIR/,
      ),
      expect.stringMatching(
        /^The templates folder no\/such\/templates does not exist \(looked for from .+\)\. To fix: .*TEMPLATES_DIR/,
      ),
    ]);
  });
});
