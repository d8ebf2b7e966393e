import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { eventually, TEST_REDIS_ENV, testRedis } from '../support/redis.js';
import { exited } from '../support/worker-process.js';

describe('npm run start:api', () => {
  it('logs a URL it can be reached at when HOST is an IPv6 address', async () => {
    const ctx = testRedis();
    const child = spawn(process.execPath, ['--import', 'tsx', 'workers/api.ts'], {
      env: {
        ...process.env,
        ...TEST_REDIS_ENV,
        REDIS_PREFIX: ctx.prefix,
        HOST: '::1',
        PORT: '0',
        LOG_LEVEL: 'info',
        API_KEY: 'ipv6-host-key-0123456789',
      },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    try {
      let log = '';
      child.stdout.on('data', (chunk: Buffer) => (log += chunk.toString()));
      const url = await eventually(async () => /"api":"([^"]+)"/.exec(log)?.[1], 30_000, 'the API to listen');
      // It was http://::1:<port>, which no client can read.
      expect(url).toMatch(/^http:\/\/\[::1\]:\d+$/);
      expect((await fetch(`${url}/healthz`)).status).toBe(200);
    } finally {
      child.kill('SIGKILL');
      await exited(child);
      await ctx.cleanup();
    }
  }, 60_000);
});
