import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../../engine/cli/run-cli.js';
import {
  checkInAppToken,
  ConfigError,
  generateWebhookSecret,
  loadConfig,
  loadJourneyFolder,
} from '../../engine/index.js';
import { resolveSecrets } from '../../workers/process-secrets.js';

/** Runs the CLI in process, capturing what it prints. */
const run = (...argv: string[]) => runWith({}, ...argv);

/** The same, with variables added to the environment. */
async function runWith(env: Record<string, string>, ...argv: string[]) {
  const out = { stdout: '', stderr: '' };
  const code = await runCli(argv, {
    stdout: (text) => (out.stdout += text),
    stderr: (text) => (out.stderr += text),
    env: { JOURNEYS_DIR: 'test/fixtures/cli/journeys', TEMPLATES_DIR: 'test/fixtures/cli/templates', ...env },
  });
  return { code, ...out };
}

describe('runCli', () => {
  it('reads - from the standard input it is given, and refuses a terminal at once rather than wait for typed JSON', async () => {
    const events = JSON.stringify([
      { at: '0s', type: 'track', event: 'Signed Up', properties: { plan: 'pro' } },
    ]);
    const withStdin = async (stdin: { isTerminal: boolean; read(): Buffer }) => {
      const out = { stdout: '', stderr: '' };
      const code = await runCli(['simulate', 'tea-welcome', '--events', '-', '--until', '0s'], {
        stdout: (text) => (out.stdout += text),
        stderr: (text) => (out.stderr += text),
        env: { JOURNEYS_DIR: 'test/fixtures/cli/journeys', TEMPLATES_DIR: 'test/fixtures/cli/templates' },
        stdin,
      });
      return { code, ...out };
    };
    expect(await withStdin({ isTerminal: false, read: () => Buffer.from(events) })).toMatchObject({
      code: 0,
      stdout: expect.stringContaining('track "Signed Up"'),
    });
    const typed = await withStdin({
      isTerminal: true,
      read: () => {
        throw new Error('a terminal is not read');
      },
    });
    expect(typed.code).toBe(1);
    expect(typed.stderr).toContain('standard input: is a terminal, with nothing piped in');
    expect(typed.stderr).toContain('pipe the JSON into the command');
  });

  it('prints the installed version, as a bug report asks for it', async () => {
    const { version } = JSON.parse(readFileSync('package.json', 'utf8')) as { version: string };
    for (const flag of ['--version', '-v', 'version'])
      expect(await run(flag)).toEqual({ code: 0, stdout: `chorus ${version}\n`, stderr: '' });
    expect((await run('--help')).stdout).toContain('-v, --version');
  });

  it('prints the overall help, and each command’s', async () => {
    expect(await run('--help')).toMatchObject({
      code: 0,
      stdout: expect.stringContaining('Commands:\n  validate'),
    });
    expect(await run('help', 'simulate')).toMatchObject({
      code: 0,
      stdout: expect.stringMatching(/^usage: chorus simulate <journey>/),
    });
    expect(await run('preview', '-h')).toMatchObject({
      code: 0,
      stdout: expect.stringMatching(/^usage: chorus preview <message> --channel <channel>/),
    });
    // The help flag before the command, as git and npm take it, and help about help.
    for (const flag of ['--help', '-h'])
      expect(await run(flag, 'simulate')).toMatchObject({
        code: 0,
        stdout: expect.stringMatching(/^usage: chorus simulate <journey>/),
      });
    expect(await run('help', 'help')).toMatchObject({
      code: 0,
      stdout: expect.stringContaining('Commands:\n  validate'),
    });
  });

  it.each([
    [[], /^usage: chorus <command>/],
    [['frobnicate'], /^Unknown command "frobnicate"\.\n\nusage: chorus <command>/],
    [['help', 'frobnicate'], /^Unknown command "frobnicate"\.\n\nusage: chorus <command>/],
    [['graph'], /^chorus graph: missing <journey>\.\n\nusage: chorus graph/],
    [['graph', 'a', 'b'], /^chorus graph: unexpected argument "b"\./],
    [['validate', '--strict'], /^chorus validate: Unknown option '--strict'/],
    [['simulate', 'tea-welcome'], /^chorus simulate: --events is required\./],
    [['simulate', 'tea-welcome', '--events'], /^chorus simulate: Option '--events <value>' argument missing/],
    [
      ['simulate', 'tea-welcome', '--events', 'events.json', '--until', '2days'],
      /^chorus simulate: --until "2days" is not a duration; write a number of milliseconds, /,
    ],
    [
      ['simulate', 'tea-welcome', '--events', 'events.json', '--until', '100000000d'],
      /^chorus simulate: --until "100000000d" is more than 36500 days/,
    ],
    [
      ['validate', '--journeys', ''],
      /^chorus validate: --journeys is empty; give it a value, or leave it out\.\n\nusage: chorus validate/,
    ],
    [
      ['simulate', 'tea-welcome', '--events', ' '],
      /^chorus simulate: --events is empty; give it a value, or leave it out\./,
    ],
    [
      ['preview', 'welcome', '--channel', 'email', '--profile=', '--html'],
      /^chorus preview: --profile is empty;/,
    ],
    [
      ['preview', 'welcome', '--channel', 'fax'],
      /--channel "fax" is not a channel; use one of email, sms, push, in-app, webhook\./,
    ],
    [
      ['send-test', 'welcome', '--to', 'a@example.com', '--channel', 'sms'],
      /only --channel email can be test-sent/,
    ],
  ])('refuses %j with the usage and status 2', async (argv, message) => {
    const result = await run(...argv);
    expect(result).toMatchObject({ code: 2, stdout: '' });
    expect(result.stderr).toMatch(message);
    expect(result.stderr).toContain('usage: chorus');
  });

  it('prints a failure as its code and message, with status 1', async () => {
    expect(await run('graph', 'nope')).toEqual({
      code: 1,
      stdout: '',
      stderr: expect.stringMatching(
        /^CHORUS_JOURNEY_NOT_FOUND: No journey "nope" is loaded \(loaded: tea-welcome\)\./,
      ),
    });
    expect(await run('preview', 'welcome', '--channel', 'email', '--profile', 'no/such/file.json')).toEqual({
      code: 1,
      stdout: '',
      stderr: expect.stringMatching(
        /^CHORUS_INVALID_INPUT: Invalid profile file: no\/such\/file\.json: cannot be read \(.*\)\. To fix: give the path of a file that exists/,
      ),
    });
  });

  it('reads only the variables a command uses: a bad PORT stops preview, not graph, and is a problem of validate', async () => {
    expect(await runWith({ PORT: 'abc', REDIS_URL: 'not a url' }, 'graph', 'tea-welcome')).toMatchObject({
      code: 0,
      stdout: expect.stringContaining('stateDiagram-v2'),
    });
    const validate = await runWith({ PORT: 'abc' }, 'validate');
    expect(validate).toMatchObject({
      code: 1,
      stderr: expect.stringMatching(
        /^1 problem\(s\) found .*\n\n1\. \[configuration\] CHORUS_CONFIG_INVALID: .*PORT/,
      ),
    });
    // The links a preview renders carry the port, so it is read there.
    const preview = await runWith({ PORT: 'abc' }, 'preview', 'welcome', '--channel', 'sms');
    expect(preview).toMatchObject({
      code: 1,
      stderr: expect.stringMatching(/^CHORUS_CONFIG_INVALID: .*PORT/),
    });
  });

  it('counts in validate an SMS as start-up does: with its tracked link as the short link sent, unless TRACK_LINKS=false', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'chorus-cli-sms-'));
    try {
      const templates = join(dir, 'templates');
      mkdirSync(join(templates, 'offer'), { recursive: true });
      mkdirSync(join(dir, 'journeys'));
      // Four parts as rendered, one once its link is a short link.
      const url = `https://yuetea.example.com/${'blends/'.repeat(70)}`;
      const message = { id: 'offer', proposition: 'Blends.', headline: 'Tea', cta: { label: 'Go', url } };
      writeFileSync(join(templates, 'offer', 'message.json'), JSON.stringify(message));
      writeFileSync(join(templates, 'offer', 'sms.hbs'), '{{message.headline}} {{message.cta.url}}');
      const env = {
        TEMPLATES_DIR: templates,
        JOURNEYS_DIR: join(dir, 'journeys'),
        PUBLIC_URL: 'https://chorus.test',
      };
      expect(await runWith(env, 'validate')).toMatchObject({ code: 0 });
      expect(await runWith({ ...env, TRACK_LINKS: 'false' }, 'validate')).toMatchObject({
        code: 1,
        stderr: expect.stringMatching(/sms\.hbs renders to 4 SMS parts with placeholder values, more than 3/),
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('lists in validate a bad variable beside the problems of the templates and webhook sources, not instead of them', async () => {
    const validate = await runWith(
      {
        PORT: 'abc',
        JOURNEYS_DIR: 'journeys',
        TEMPLATES_DIR: 'test/fixtures/cli/broken-templates',
        WEBHOOK_SOURCE_SECRETS: `shpo=${generateWebhookSecret()}`,
      },
      'validate',
    );
    expect(validate.code).toBe(1);
    const problems = validate.stderr.match(/^\d+\. \[[a-z]+\] .*$/gm) ?? [];
    expect(problems[0]).toMatch(
      /^1\. \[configuration\] CHORUS_CONFIG_INVALID: .*PORT: "abc" is not a whole number/,
    );
    expect(problems).toContainEqual(
      expect.stringMatching(/\[configuration\] .*"shpo", which no file in JOURNEYS_DIR defines/),
    );
    expect(problems).toContainEqual(expect.stringMatching(/^\d+\. \[templates\] /));
  });

  it('refuses in validate a WEBHOOK_SOURCE_SECRETS entry for a source no journey file defines, in the words of start-up', async () => {
    const env = {
      JOURNEYS_DIR: 'journeys',
      TEMPLATES_DIR: 'templates',
      WEBHOOK_SOURCE_SECRETS: `shop=${generateWebhookSecret()},shpo=${generateWebhookSecret()}`,
    };
    // Start-up stops on it before it needs Redis.
    const { webhookSources } = await loadJourneyFolder('journeys');
    const startUp: unknown = await resolveSecrets(
      loadConfig(env),
      webhookSources,
      { api: true },
      undefined as never,
    ).catch((error: unknown) => error);
    expect(startUp).toBeInstanceOf(ConfigError);
    const { code, message } = startUp as ConfigError;
    expect(message).toContain('"shpo", which no file in JOURNEYS_DIR defines (known: shop)');

    const validate = await runWith(env, 'validate');
    expect(validate.code).toBe(1);
    expect(validate.stderr).toMatch(/^1 problem\(s\) found/);
    expect(validate.stderr).toContain(`1. [configuration] ${code}: ${message}`);
    // Every source it names is defined: no problem.
    const known = await runWith(
      { ...env, WEBHOOK_SOURCE_SECRETS: `shop=${generateWebhookSecret()}` },
      'validate',
    );
    expect(known).toMatchObject({ code: 0, stdout: expect.stringContaining('No problems found') });
  });

  it('names a profile file whose whole value has the wrong shape as (root), not as a request body', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'chorus-cli-'));
    try {
      const file = join(dir, 'profile.json');
      writeFileSync(file, '[1, 2]');
      const result = await run('preview', 'welcome', '--channel', 'email', '--profile', file);
      expect(result.code).toBe(1);
      expect(result.stderr).toContain('(root)');
      expect(result.stderr).not.toContain('(body)');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('reads an events or profile file saved with a byte order mark, as Windows editors save UTF-8, and names one that is not UTF-8', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'chorus-cli-'));
    try {
      const bom = '\uFEFF';
      const events = join(dir, 'events.json');
      writeFileSync(events, `${bom}[{ "at": "0s", "type": "track", "event": "Signed Up" }]\r\n`);
      const profile = join(dir, 'profile.json');
      writeFileSync(profile, `${bom}{ "firstName": "Zoë" }`);
      expect(await run('simulate', 'tea-welcome', '--events', events)).toMatchObject({
        code: 0,
        stdout: expect.stringContaining('track "Signed Up"'),
      });
      expect(await run('preview', 'welcome', '--channel', 'email', '--profile', profile)).toMatchObject({
        code: 0,
        stdout: expect.stringContaining('Zoë'),
      });
      // Latin-1, as an older editor saves it: the ë would be rendered as U+FFFD.
      writeFileSync(profile, Buffer.from('{ "firstName": "Zo\xEB" }', 'latin1'));
      expect(await run('preview', 'welcome', '--channel', 'email', '--profile', profile)).toMatchObject({
        code: 1,
        stderr: `CHORUS_INVALID_INPUT: Invalid profile file: ${profile}: is not UTF-8. To fix: save the file as UTF-8.\n`,
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('warns in a preview of a problem of the brand layout, which every email shares', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'chorus-cli-'));
    try {
      cpSync('test/fixtures/cli/templates', dir, { recursive: true });
      mkdirSync(join(dir, '_brand'), { recursive: true });
      writeFileSync(join(dir, '_brand', 'layout.html.hbs'), '<html><body>{{body}}</body></html>');
      const result = await runWith(
        { TEMPLATES_DIR: dir },
        'preview',
        'welcome',
        '--channel',
        'email',
        '--html',
      );
      expect(result.code).toBe(0);
      expect(result.stderr).toMatch(/^warning: Brand layout: .*layout\.html\.hbs line 1 writes \{\{body\}\}/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('names the loaded versions when id@version names none of them', async () => {
    expect(await run('graph', 'tea-welcome@3')).toEqual({
      code: 1,
      stdout: '',
      stderr:
        'CHORUS_JOURNEY_NOT_FOUND: Journey "tea-welcome" has no version 3 among the loaded ones (1, 2). ' +
        'To fix: name one of those, e.g. tea-welcome@2, or the id alone for the latest.\n',
    });
    expect((await run('graph', 'nope@1')).stderr).toMatch(
      /^CHORUS_JOURNEY_NOT_FOUND: No journey "nope" is loaded \(loaded: tea-welcome\)\./,
    );
    // A second @ is part of the version, not dropped: no journey has version "1@2".
    expect((await run('graph', 'tea-welcome@1@2')).stderr).toMatch(
      /^CHORUS_JOURNEY_NOT_FOUND: Journey "tea-welcome" has no version 1@2 among the loaded ones \(1, 2\)/,
    );
  });

  it('refuses a journey argument that names no journey, with the usage and status 2', async () => {
    const result = await run('graph', '@1');
    expect(result).toMatchObject({ code: 2, stdout: '' });
    expect(result.stderr).toContain(
      'chorus graph: "@1" names no journey; write <journey> or <journey>@<version>.',
    );
  });

  it('names a journeys or templates folder that does not exist, with status 1', async () => {
    for (const argv of [
      ['graph', 'tea-welcome', '--journeys', 'no/such/folder'],
      ['simulate', 'tea-welcome', '--events', 'no/such/events.json', '--journeys', 'no/such/folder'],
    ]) {
      expect(await run(...argv)).toEqual({
        code: 1,
        stdout: '',
        stderr: expect.stringMatching(
          /^CHORUS_JOURNEY_DEFINITION: The journeys folder no\/such\/folder does not exist \(looked for from .+\)\. To fix: run from the project's root, or set JOURNEYS_DIR \(or --journeys\) to the folder\.\n$/,
        ),
      });
    }
    for (const argv of [
      ['preview', 'welcome', '--channel', 'email', '--templates', 'no/such/folder'],
      ['send-test', 'welcome', '--to', 'ada@example.com', '--templates', 'no/such/folder'],
      ['simulate', 'tea-welcome', '--events', 'no/such/events.json', '--templates', 'no/such/folder'],
    ]) {
      expect(await run(...argv)).toEqual({
        code: 1,
        stdout: '',
        stderr: expect.stringMatching(
          /^CHORUS_MESSAGE_INVALID: The templates folder no\/such\/folder does not exist \(looked for from .+\)\. To fix: run from the project's root, or set TEMPLATES_DIR \(or --templates\) to the folder\.\n$/,
        ),
      });
    }
  });

  it('names a journeys or templates folder that is a file, with status 1', async () => {
    expect(await run('graph', 'tea-welcome', '--journeys', 'package.json')).toEqual({
      code: 1,
      stdout: '',
      stderr: expect.stringMatching(
        /^CHORUS_JOURNEY_DEFINITION: The journeys folder package\.json is not a folder \(looked for from .+\)\. To fix: /,
      ),
    });
    expect(await run('preview', 'welcome', '--channel', 'email', '--templates', 'package.json')).toEqual({
      code: 1,
      stdout: '',
      stderr: expect.stringMatching(
        /^CHORUS_MESSAGE_INVALID: The templates folder package\.json is not a folder \(looked for from .+\)\. To fix: /,
      ),
    });
  });

  it('names OUTBOX_DIR when the preview cannot be written there, with status 1', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'chorus-cli-'));
    try {
      // A file where the folder should be: nothing can be written under it.
      writeFileSync(join(dir, 'outbox'), '');
      const result = await runWith(
        { OUTBOX_DIR: join(dir, 'outbox') },
        'preview',
        'welcome',
        '--channel',
        'email',
      );
      expect(result).toEqual({
        code: 1,
        stdout: '',
        stderr: expect.stringMatching(
          /^CHORUS_CONFIG_INVALID: Invalid configuration: OUTBOX_DIR: the preview cannot be written to .*outbox\/preview \(ENOTDIR: .*\); set it to a folder you can write, or print the HTML with --html\. To fix: /,
        ),
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('send-test shows a transactional message without the list headers, as a real send has it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'chorus-cli-'));
    try {
      const templates = join(dir, 'templates');
      cpSync('templates', templates, { recursive: true });
      const file = join(templates, 'welcome', 'message.json');
      writeFileSync(
        file,
        JSON.stringify({ ...JSON.parse(readFileSync(file, 'utf8')), topic: 'transactional' }),
      );
      const sent = (message: string) =>
        runWith(
          { OUTBOX_DIR: join(dir, 'outbox') },
          'send-test',
          message,
          '--to',
          'ada@example.com',
          '--templates',
          templates,
        );

      const receipt = await sent('welcome');
      const marketing = await sent('nudge');

      const eml = (stdout: string) => readFileSync(/ to (\S+\.eml) /.exec(stdout)![1]!, 'utf8');
      expect(eml(receipt.stdout)).not.toMatch(/^List-Unsubscribe/im);
      expect(eml(marketing.stdout)).toMatch(/^List-Unsubscribe:\s+<http/m);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('points send-test at OUTBOX_DIR, not SMTP_URL, when the outbox it writes to cannot be written', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'chorus-cli-'));
    try {
      writeFileSync(join(dir, 'outbox'), '');
      const result = await runWith(
        { OUTBOX_DIR: join(dir, 'outbox') },
        'send-test',
        'welcome',
        '--to',
        'ada@example.com',
      );
      expect(result).toEqual({
        code: 1,
        stdout: '',
        stderr: expect.stringMatching(
          /^CHORUS_SEND_TEST_FAILED: The test send failed: could not write the email outbox file: ENOTDIR: .*\. To fix: SMTP_URL is unset, so the email is written under OUTBOX_DIR: set it to a folder you can write, or set SMTP_URL to send through a server\.\n$/,
        ),
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses to graph or simulate a journey whose id and version two files define, as the engine refuses to start', async () => {
    const journeys = 'test/fixtures/cli/twice-journeys';
    const expected = {
      code: 1,
      stdout: '',
      stderr:
        'CHORUS_JOURNEY_INVALID: 1 problem(s) in the journeys:\n- twice@1: This id and version are defined twice. To fix: give the newer definition a higher version.\n',
    };
    expect(await run('graph', 'twice', '--journeys', journeys)).toEqual(expected);
    expect(await run('simulate', 'twice', '--journeys', journeys, '--events', 'no/such/events.json')).toEqual(
      expected,
    );
  });

  it('picks a journey version with id@version', async () => {
    const { code, stdout } = await run('graph', 'tea-welcome@1');
    expect(code).toBe(0);
    expect(stdout).toContain('s_welcomed : sends welcome (email)');
    expect(stdout).not.toContain('s_nudge');
  });
});

describe('chorus in-app-token', () => {
  const secret = 'cli-in-app-secret-16';

  it("prints a token the API takes for the customer's inbox, valid for --ttl", async () => {
    const before = Date.now();
    const { code, stdout } = await runWith(
      { IN_APP_TOKEN_SECRET: secret },
      'in-app-token',
      'ada',
      '--ttl',
      '2h',
    );
    expect(code).toBe(0);
    const check = checkInAppToken([secret], stdout.trim(), Date.now());
    expect(check).toMatchObject({ ok: true, claim: { userId: 'ada' } });
    const exp = check.ok ? check.claim.exp : 0;
    expect(exp).toBeGreaterThanOrEqual(before + 7_200_000);
    expect(exp).toBeLessThanOrEqual(Date.now() + 7_200_000);
    expect(checkInAppToken([secret], stdout.trim(), exp)).toMatchObject({ ok: false, reason: 'expired' });
  });

  it('needs IN_APP_TOKEN_SECRET, and a --ttl from 1s to 7d', async () => {
    expect(await run('in-app-token', 'ada')).toMatchObject({
      code: 1,
      stderr: expect.stringContaining('CHORUS_CONFIG_INVALID: Invalid configuration: IN_APP_TOKEN_SECRET'),
    });
    for (const ttl of ['0s', '8d', '1.5s', 'soon'])
      expect(
        await runWith({ IN_APP_TOKEN_SECRET: secret }, 'in-app-token', 'ada', '--ttl', ttl),
        ttl,
      ).toMatchObject({
        code: 2,
        stderr: expect.stringContaining('--ttl'),
      });
    expect(await runWith({ IN_APP_TOKEN_SECRET: secret }, 'in-app-token')).toMatchObject({ code: 2 });
  });
});
