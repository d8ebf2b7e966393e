import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { eventually, TEST_REDIS_ENV, testRedis } from '../support/redis.js';
import { exited } from '../support/worker-process.js';

const API_KEY = 'configured-api-key-0123456789';
const DASHBOARD_PASSWORD = 'configured-dashboard-password';

/** `npm start` at a terminal, until its banner is printed: the banner, its lines without `\r`. */
async function bannerOf(env: Record<string, string>): Promise<string[]> {
  const child = spawn('script', ['-qfec', 'exec node --import tsx workers/start.ts', '/dev/null'], {
    env: { ...process.env, ...TEST_REDIS_ENV, PORT: '0', LOG_LEVEL: 'warn', ...env },
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  try {
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    await eventually(async () => out.includes('Ctrl-C stops it'), 30_000, 'the banner');
    const lines = out.replaceAll('\r', '').split('\n');
    const first = lines.indexOf('Chorus is running.');
    return lines.slice(first, lines.findIndex((line) => line.startsWith('Ctrl-C stops it')) + 1);
  } finally {
    child.kill('SIGTERM');
    await exited(child);
  }
}

/** What a banner line is, without its values: its label, or how a command in it starts. */
const shape = (line: string) => line.slice(0, 14);

/**
 * `npm start` at a terminal, as under `docker run -t`, whose output the container's log keeps:
 * `script` gives it a pseudo-terminal, so it prints its banner.
 */
describe('npm start at a terminal', () => {
  it('prints the secrets it made up, and never the ones configured', async () => {
    const ctx = testRedis();
    const child = spawn('script', ['-qfec', 'exec node --import tsx workers/start.ts', '/dev/null'], {
      env: {
        ...process.env,
        ...TEST_REDIS_ENV,
        REDIS_PREFIX: ctx.prefix,
        PORT: '0',
        LOG_LEVEL: 'warn',
        API_KEY,
        DASHBOARD_PASSWORD,
      },
      stdio: ['pipe', 'pipe', 'inherit'],
    });
    try {
      let out = '';
      child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
      await eventually(async () => out.includes('Ctrl-C stops it'), 30_000, 'the banner');

      expect(out).toContain('Chorus is running.');
      expect(out).not.toContain(API_KEY);
      expect(out).not.toContain(DASHBOARD_PASSWORD);
      expect(out).toMatch(/API key: +set by API_KEY/);
      expect(out).toMatch(/Dashboard: .* user admin, password set by DASHBOARD_PASSWORD/);
      // The examples read the key from the shell instead.
      expect(out).toContain('-H "Authorization: Bearer $API_KEY"');
      // What it made up is still shown: nobody else knows it.
      expect(out).toMatch(/WEBHOOK_SOURCE_SECRETS \(shop\): whsec_\S+/);
    } finally {
      child.kill('SIGTERM');
      await exited(child);
      await ctx.cleanup();
    }
  }, 60_000);

  it('prints the banner the README shows in its Quick start, line for line', async () => {
    const ctx = testRedis();
    try {
      const printed = await bannerOf({ REDIS_PREFIX: ctx.prefix });
      const readme = readFileSync('README.md', 'utf8');
      const sample = /```\n(Chorus is running\.\n[\s\S]*?)\n```/.exec(readme)?.[1]?.split('\n') ?? [];
      expect(sample.map(shape)).toEqual(printed.map(shape));
    } finally {
      await ctx.cleanup();
    }
  }, 60_000);
});
