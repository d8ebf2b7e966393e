import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { freePort } from '../../engine/free-port.js';
import { redisReady } from '../../engine/redis/redis-ready.js';
import { eventually, TEST_REDIS_URL } from '../support/redis.js';
import { exited } from '../support/worker-process.js';

/** A connection that fails nothing on its own while it waits: as the workers' own. */
function connect(url: string): Redis {
  const redis = new Redis(url, { maxRetriesPerRequest: null });
  redis.on('error', () => {});
  return redis;
}

describe('redisReady', () => {
  it('resolves once a Redis that takes writes answers', async () => {
    const redis = connect(TEST_REDIS_URL);
    try {
      await expect(redisReady(redis, { where: 'the test Redis', timeoutMs: 5_000 })).resolves.toBeUndefined();
    } finally {
      redis.disconnect();
    }
  });

  it('rejects at once, naming REDIS_URL, when Redis refuses the user and password', async () => {
    const redis = connect(TEST_REDIS_URL.replace('redis://', 'redis://no-such-user:pw@'));
    try {
      await expect(redisReady(redis, { where: 'the test Redis' })).rejects.toMatchObject({
        code: 'CHORUS_REDIS_UNAVAILABLE',
        message: expect.stringMatching(
          /^Redis at the test Redis refused this process's credentials \(WRONGPASS .*\)\. To fix: correct the user name and password in REDIS_URL/,
        ),
      });
    } finally {
      redis.disconnect();
    }
  });

  it('rejects a database number the Redis does not have, which would leave every write in database 0', async () => {
    const admin = connect(TEST_REDIS_URL);
    const [, databases] = (await admin.config('GET', 'databases')) as [string, string];
    admin.disconnect();
    const url = new URL(TEST_REDIS_URL);
    url.pathname = `/${databases}`;
    const redis = connect(url.toString());
    try {
      await expect(redisReady(redis, { where: 'the test Redis', timeoutMs: 5_000 })).rejects.toMatchObject({
        code: 'CHORUS_REDIS_UNAVAILABLE',
        message: expect.stringMatching(
          new RegExp(
            `^Redis at the test Redis has no database ${databases} \\(ERR DB index is out of range\\)\\. ` +
              `To fix: name one from 0 to ${Number(databases) - 1} in the path of REDIS_URL`,
          ),
        ),
      });
    } finally {
      redis.disconnect();
    }
    url.pathname = `/${Number(databases) - 1}`;
    const last = connect(url.toString());
    try {
      await expect(redisReady(last, { where: 'the test Redis', timeoutMs: 5_000 })).resolves.toBeUndefined();
      expect(await last.client('INFO')).toMatch(new RegExp(` db=${Number(databases) - 1} `));
    } finally {
      last.disconnect();
    }
  });

  it('rejects a read-only replica, whose every write would fail READONLY', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'chorus-replica-'));
    const port = await freePort();
    // A replica of a primary that is not there: it answers, and refuses writes.
    // prettier-ignore
    const replica = spawn('redis-server', [
      '--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '',
      '--replicaof', '127.0.0.1', '1',
    ], { stdio: 'ignore' });
    const redis = connect(`redis://127.0.0.1:${port}`);
    try {
      await eventually(async () => (await redis.ping().catch(() => '')) === 'PONG', 5_000, 'the replica');
      await expect(redisReady(redis, { where: 'the replica' })).rejects.toMatchObject({
        code: 'CHORUS_REDIS_UNAVAILABLE',
        message:
          'Redis at the replica is a read-only replica of 127.0.0.1:1, and the engine writes to Redis. ' +
          'To fix: point REDIS_URL at the primary.',
      });
    } finally {
      redis.disconnect();
      replica.kill('SIGKILL');
      await exited(replica);
      await rm(dir, { recursive: true, force: true });
    }
  });
});
