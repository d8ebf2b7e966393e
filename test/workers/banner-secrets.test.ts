import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { eventually, TEST_REDIS_ENV, testRedis } from '../support/redis.js';
import { exited } from '../support/worker-process.js';

const API_KEY = 'configured-api-key-0123456789';
const DASHBOARD_PASSWORD = 'configured-dashboard-password';

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
});
