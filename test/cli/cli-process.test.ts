import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runChorus } from '../support/cli-process.js';
import { startSmtpSink, type SmtpSink } from '../support/smtp-sink.js';

const fixtures = { JOURNEYS_DIR: 'test/fixtures/cli/journeys', TEMPLATES_DIR: 'test/fixtures/cli/templates' };

describe('the chorus command, run as a process', () => {
  let dir: string;
  let sink: SmtpSink;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'chorus-cli-'));
    sink = await startSmtpSink();
  });
  afterAll(async () => {
    await sink.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const env = () => ({ ...fixtures, OUTBOX_DIR: join(dir, 'outbox') });

  it('prints its help, and exits 2 on an unknown command', async () => {
    expect(await runChorus(['--help'])).toMatchObject({
      code: 0,
      stdout: expect.stringContaining('send-test'),
    });
    expect(await runChorus(['deploy'])).toMatchObject({
      code: 2,
      stderr: expect.stringContaining('Unknown command "deploy"'),
    });
  });

  it('validate: exits 0 with a summary, or 1 listing every problem', async () => {
    const ok = await runChorus(['validate'], env());
    expect(ok).toMatchObject({
      code: 0,
      stdout: expect.stringMatching(/^OK: 2 journey\(s\) .*No problems found\.\n$/),
    });
    const broken = await runChorus(
      [
        'validate',
        '--journeys',
        'test/fixtures/cli/broken-journeys',
        '--templates',
        'test/fixtures/cli/broken-templates',
      ],
      env(),
    );
    expect(broken.code).toBe(1);
    expect(broken.stderr).toMatch(/^5 problem\(s\) found/);
    expect(broken.stderr.match(/^\d+\. \[(journeys|templates)\]/gm)).toHaveLength(5);
  });

  it('graph: prints the Mermaid diagram', async () => {
    const { code, stdout } = await runChorus(['graph', 'tea-welcome'], env());
    expect(code).toBe(0);
    expect(stdout).toMatch(/^stateDiagram-v2\n/);
    expect(stdout).toContain('  s_welcomed --> s_nudge : after 2d\n');
  });

  it('simulate: prints the timeline with each rendered message', async () => {
    const events = join(dir, 'events.json');
    writeFileSync(
      events,
      JSON.stringify({
        customer: 'ada',
        profile: { firstName: 'Ada', email: 'ada@example.com' },
        events: [{ at: '0s', type: 'track', event: 'Signed Up', properties: { plan: 'pro' } }],
      }),
    );
    const { code, stdout } = await runChorus(
      ['simulate', 'tea-welcome', '--events', events, '--until', '2d'],
      env(),
    );
    expect(code).toBe(0);
    expect(stdout).toContain('│ Subject: Welcome to the circle, Ada');
    expect(stdout).toContain(
      '+2d  2026-01-03T00:00:00.000Z  timer after 2d\n    welcomed → nudged (consideration)',
    );
    expect(stdout).toContain('pending: timer after 1d, due at +3d');
  });

  it('simulate and preview: read the events or the profile from standard input when the file is -', async () => {
    const events = JSON.stringify([
      { at: '0s', type: 'track', event: 'Signed Up', properties: { plan: 'pro' } },
    ]);
    const simulated = await runChorus(
      ['simulate', 'tea-welcome', '--events', '-', '--until', '0s'],
      env(),
      events,
    );
    expect(simulated).toMatchObject({ code: 0, stdout: expect.stringContaining('track "Signed Up"') });
    const previewed = await runChorus(
      ['preview', 'welcome', '--channel', 'email', '--html', '--profile', '-'],
      env(),
      JSON.stringify({ firstName: 'Cy' }),
    );
    expect(previewed).toMatchObject({
      code: 0,
      stdout: expect.stringMatching(/^Subject: Welcome to the circle, Cy\n/),
    });
  });

  it('simulate: refuses standard input with nothing piped in as empty, naming it, rather than as bad JSON', async () => {
    const run = await runChorus(['simulate', 'tea-welcome', '--events', '-'], env(), '');
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('standard input: is empty');
    expect(run.stderr).toContain('pipe the JSON into the command');
  });

  it('preview: prints the email and writes its HTML to the outbox', async () => {
    const profile = join(dir, 'profile.json');
    writeFileSync(profile, JSON.stringify({ firstName: 'Bo' }));
    const { code, stdout } = await runChorus(
      ['preview', 'welcome', '--channel', 'email', '--profile', profile],
      env(),
    );
    expect(code).toBe(0);
    expect(stdout).toMatch(/^Subject: Welcome to the circle, Bo\n/);
    const html = /^HTML: (.+)$/m.exec(stdout)?.[1];
    expect(html).toBe(join(dir, 'outbox', 'preview', 'welcome.html'));
    expect(readFileSync(html!, 'utf8')).toContain('<h1>Welcome to the circle</h1>');
  });

  it('send-test: sends through SMTP_URL and says where it went', async () => {
    sink.reset();
    const { code, stdout } = await runChorus(['send-test', 'nudge', '--to', 'ada@example.com'], {
      ...env(),
      SMTP_URL: sink.url,
    });
    expect(code).toBe(0);
    expect(stdout).toMatch(new RegExp(`^Sent "nudge" to ada@example.com through ${sink.url}: 250 `));
    expect(
      sink.received.map((mail) => [mail.subject, mail.to && 'text' in mail.to ? mail.to.text : '']),
    ).toEqual([['Still looking for your blend?', 'ada@example.com']]);
  });

  it('send-test: writes an .eml file to the outbox without SMTP_URL, and refuses a hostile address', async () => {
    const outbox = await runChorus(['send-test', 'welcome', '--to', 'bo@example.com'], env());
    expect(outbox.code).toBe(0);
    const path = /to (\S+\.eml) \(SMTP_URL is unset/.exec(outbox.stdout)?.[1];
    expect(path && existsSync(path)).toBe(true);
    expect(readdirSync(join(dir, 'outbox', 'email'))).toHaveLength(1);
    expect(readFileSync(path!, 'utf8')).toMatch(/^To: bo@example\.com\r$/m);

    const hostile = await runChorus(
      ['send-test', 'welcome', '--to', 'bo@example.com\nBcc: all@example.com'],
      env(),
    );
    expect(hostile).toMatchObject({ code: 1, stdout: '' });
    expect(hostile.stderr).toMatch(/^CHORUS_INVALID_INPUT: Invalid send-test address: --to: .* is refused/);
    expect(readdirSync(join(dir, 'outbox', 'email'))).toHaveLength(1);
  });
});
