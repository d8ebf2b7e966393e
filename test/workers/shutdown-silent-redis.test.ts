import { spawn, type ChildProcess } from 'node:child_process';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { startPrivateRedis, type PrivateRedis } from '../fault/support/private-redis.js';
import { eventually } from '../support/redis.js';
import { exited } from '../support/worker-process.js';

const children: ChildProcess[] = [];
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const child of children.splice(0)) {
    child.kill('SIGKILL');
    await exited(child);
  }
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

describe('a process stopped while its Redis does not answer', () => {
  it.each([
    ['npm run start:worker', 'workers/worker.ts'],
    ['npm start', 'workers/start.ts'],
  ])(
    '%s exits within SHUTDOWN_DEADLINE_MS and a little, not when Redis answers again',
    async (_name, entry) => {
      const redis: PrivateRedis = await startPrivateRedis();
      cleanups.push(() => redis.stop());
      const child = spawn(process.execPath, ['--import', 'tsx', entry], {
        env: {
          ...process.env,
          // This private Redis alone, also in the Cluster run (whose environment names the Cluster).
          REDIS_URL: redis.url,
          REDIS_CLUSTER_NODES: '',
          REDIS_PREFIX: 'chorus-silent-stop',
          PORT: '0',
          PUBLIC_URL: 'http://localhost:3000',
          API_KEY: 'silent-stop-key-0123456789abcdef',
          API_REDIS_TIMEOUT_MS: '500',
          SHUTDOWN_DEADLINE_MS: '1000',
          LOG_LEVEL: 'info',
        },
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      children.push(child);
      let log = '';
      child.stdout!.on('data', (chunk: Buffer) => (log += chunk.toString()));
      await eventually(async () => log.includes('chorus engine started'), 30_000, 'the process to start');

      // As a network partition: the connections stay up, and no answer comes back.
      const admin = new Redis(redis.port, '127.0.0.1');
      await admin.call('CLIENT', 'PAUSE', '30000', 'ALL');
      admin.disconnect();

      const stopping = Date.now();
      child.kill('SIGTERM');
      const ended = await Promise.race([
        exited(child),
        new Promise((resolve) => setTimeout(resolve, 10_000, 'still running after 10 s')),
      ]);

      // Before, it waited for Redis to answer again: for a real partition, as long as it lasts.
      expect(ended).toEqual({ code: 0, signal: null });
      expect(Date.now() - stopping).toBeLessThan(6_000);
    },
    60_000,
  );
});
