import { spawn } from 'node:child_process';
import { connect } from 'node:net';
import { describe, expect, it } from 'vitest';
import { eventually, TEST_REDIS_ENV, testRedis } from '../support/redis.js';
import { exited } from '../support/worker-process.js';

const API_KEY = 'stalled-request-key-0123456789';

describe('npm run start:api', () => {
  it('exits on SIGTERM within SHUTDOWN_DEADLINE_MS though a client stalled halfway through its request', async () => {
    const ctx = testRedis();
    let stalled: ReturnType<typeof connect> | undefined;
    const child = spawn(process.execPath, ['--import', 'tsx', 'workers/api.ts'], {
      env: {
        ...process.env,
        ...TEST_REDIS_ENV,
        REDIS_PREFIX: ctx.prefix,
        PORT: '0',
        LOG_LEVEL: 'info',
        API_KEY,
        SHUTDOWN_DEADLINE_MS: '500',
      },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    try {
      let log = '';
      child.stdout.on('data', (chunk: Buffer) => (log += chunk.toString()));
      const url = new URL(
        await eventually(async () => /"api":"(http:\/\/[^"]+)"/.exec(log)?.[1], 30_000, 'the API to listen'),
      );
      // A client whose network went away mid-upload: the headers and part of the body, then nothing.
      const client = connect({ port: Number(url.port), host: '127.0.0.1' });
      stalled = client;
      client.on('error', () => {});
      const closed = new Promise<void>((resolve) => client.once('close', () => resolve()));
      await new Promise<void>((resolve) => client.once('connect', () => resolve()));
      client.write(
        'POST /v1/track HTTP/1.1\r\nHost: chorus\r\n' +
          `Authorization: Bearer ${API_KEY}\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n` +
          '{"userId":"ada",',
      );
      await eventually(
        async () => (await fetch(`${url.origin}/healthz`)).ok,
        5_000,
        'the server to take requests beside the stalled one',
      );

      const stopping = Date.now();
      child.kill('SIGTERM');
      const end = await Promise.race([
        exited(child),
        new Promise<'still running'>((resolve) => setTimeout(resolve, 8_000, 'still running').unref()),
      ]);

      // It used to wait for the rest of the body for ever, and only SIGKILL ended it.
      expect(end).toEqual({ code: 0, signal: null });
      expect(Date.now() - stopping).toBeLessThan(5_000);
      await closed;
      expect(log).toContain('"msg":"stopped"');
    } finally {
      stalled?.destroy();
      child.kill('SIGKILL');
      await exited(child);
      await ctx.cleanup();
    }
  }, 60_000);
});
