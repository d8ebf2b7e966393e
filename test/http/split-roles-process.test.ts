import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { simpleParser, type ParsedMail } from 'mailparser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { header } from '../support/smtp-sink.js';
import { eventually, TEST_REDIS_ENV, testRedis } from '../support/redis.js';
import { exited } from '../support/worker-process.js';

const PUBLIC_URL = 'https://chorus.example.com';

/**
 * The README's "Scaling out" as a developer first tries it: two `npm run start:api` processes and
 * one `npm run start:worker`, with no secrets configured. The secrets each makes up must be the
 * same: a link the worker signs is checked by an API process, and either API takes the key.
 */
describe('roles run apart with no secrets configured', () => {
  const ctx = testRedis();
  const outbox = mkdtempSync(join(tmpdir(), 'chorus-split-'));
  const {
    API_KEY: _key,
    DASHBOARD_PASSWORD: _password,
    UNSUBSCRIBE_SECRET: _unsubscribe,
    WEBHOOK_SOURCE_SECRETS: _webhooks,
    ...inherited
  } = process.env;
  const env = {
    ...inherited,
    ...TEST_REDIS_ENV,
    NODE_ENV: 'development',
    REDIS_PREFIX: ctx.prefix,
    OUTBOX_DIR: outbox,
    PORT: '0',
    PUBLIC_URL,
    LOG_LEVEL: 'info',
  };
  const started: ChildProcess[] = [];
  function start(entry: 'api' | 'worker'): () => string {
    const child = spawn(process.execPath, ['--import', 'tsx', `workers/${entry}.ts`], {
      env,
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    started.push(child);
    let output = '';
    child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    return () => output;
  }
  /** The URL an API process listens on and the API key it logged as made up. */
  async function listening(output: () => string) {
    const url = await eventually(
      async () => /"api":"(http:\/\/[^"]+)"/.exec(output())?.[1],
      20_000,
      'the API to listen',
    );
    const key = await eventually(
      async () => /"madeUp":\{[^}]*"API_KEY":"(chorus_[^"]+)"/.exec(output())?.[1],
      5_000,
      'the made-up API key in the log',
    );
    return { url, key };
  }
  let first = { url: '', key: '' };
  let second = { url: '', key: '' };

  beforeAll(async () => {
    const [firstOutput, secondOutput] = [start('api'), start('api')];
    start('worker');
    [first, second] = await Promise.all([listening(firstOutput), listening(secondOutput)]);
  }, 30_000);
  afterAll(async () => {
    // Exited before the keys go: an engine still running would re-create some after the cleanup.
    for (const child of started) child.kill('SIGKILL');
    await Promise.all(started.map(exited));
    rmSync(outbox, { recursive: true, force: true });
    await ctx.cleanup();
  });

  const post = (api: typeof first, path: string, body: unknown) =>
    fetch(`${api.url}${path}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${api.key}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });

  it('lets either API take the one key, and checks the links the worker signed', async () => {
    expect(first.key).toMatch(/^chorus_/);
    expect(second.key).toBe(first.key);
    const ada = { userId: 'ada', traits: { firstName: 'Ada', email: 'ada@example.com' } };
    expect((await post(first, '/v1/identify', ada)).status).toBe(200);
    expect((await post(second, '/v1/track', { userId: 'ada', event: 'Signed Up' })).status).toBe(200);

    const emails = join(outbox, 'email');
    const file = await eventually(
      async () => existsSync(emails) && readdirSync(emails).find((name) => name.endsWith('.eml')),
      20_000,
      'the worker to write the welcome email',
    );
    const mail: ParsedMail = await simpleParser(readFileSync(join(emails, file)));
    const unsubscribe = /^<https:\/\/chorus\.example\.com(\/v1\/unsubscribe\?token=[^>]+)>/.exec(
      header(mail, 'list-unsubscribe') ?? '',
    )?.[1];
    expect(unsubscribe, 'List-Unsubscribe').toBeDefined();
    const tracked = /href="https:\/\/chorus\.example\.com(\/t\/c\/[^"]+)"/.exec(String(mail.html))?.[1];
    expect(tracked, 'a tracked link').toBeDefined();

    for (const api of [first, second]) {
      expect((await fetch(`${api.url}${unsubscribe}`)).status, `unsubscribe page at ${api.url}`).toBe(200);
      const redirect = await fetch(`${api.url}${tracked}`, { redirect: 'manual' });
      expect(redirect.status, `tracked link at ${api.url}`).toBe(302);
    }
    const oneClick = await fetch(`${second.url}${unsubscribe}`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'List-Unsubscribe=One-Click',
    });
    expect(oneClick.status).toBe(200);

    for (const child of started) child.kill('SIGTERM');
    for (const child of started) expect(await exited(child)).toEqual({ code: 0, signal: null });
  }, 60_000);
});
