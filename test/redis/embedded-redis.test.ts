import { spawn } from 'node:child_process';
import { access, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { freePort } from '../../engine/free-port.js';
import { resolveRedis, type ResolvedRedis } from '../../engine/redis/embedded-redis.js';
import { RedisUnavailableError } from '../../engine/redis/errors.js';
import { eventually, TEST_REDIS_URL } from '../support/redis.js';
import { exited, running } from '../support/worker-process.js';

const logger = pino({ level: 'silent' });
const started: ResolvedRedis[] = [];

afterEach(async () => {
  await Promise.all(started.splice(0).map((redis) => redis.stop()));
});

function connect(url: string): Redis {
  const client = new Redis(url, {
    lazyConnect: true,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    connectTimeout: 500,
  });
  client.on('error', () => {});
  return client;
}

async function answersPing(url: string): Promise<boolean> {
  const client = connect(url);
  try {
    await client.connect();
    return (await client.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    client.disconnect();
  }
}

/** Whether `url` answers PING with NOAUTH: a Redis up, and guarded by a password. */
async function asksForPassword(url: string): Promise<boolean> {
  const client = connect(url);
  let refused = false;
  // ioredis reports the refusal of its ready check as an error event, then closes.
  client.on('error', (error: Error) => (refused ||= /^NOAUTH/.test(error.message)));
  try {
    await client.connect();
    await client.ping();
  } catch {
    // Refused or not there: `refused` tells which.
  } finally {
    client.disconnect();
  }
  return refused;
}

async function exists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  );
}

describe('resolveRedis', () => {
  it('returns an explicit url untouched and does not embed a server', async () => {
    const url = 'redis://:secret@redis.invalid:6390/2';

    const redis = await resolveRedis({ url, logger });

    expect(redis).toMatchObject({ url, embedded: false });
    await expect(redis.stop()).resolves.toBeUndefined();
  });

  it('logs the url it is given with its user name and password masked whole, as the banner shows it', async () => {
    // An ACL user name is half the credentials: the start-up log kept it while the banner masked it.
    const lines: string[] = [];
    const recording = pino({ level: 'info' }, { write: (line: string) => void lines.push(line) });

    await resolveRedis({ url: 'redis://chorus-prod:s3cret@redis.invalid:6390/2', logger: recording });

    expect(lines.join('')).toContain('redis://***@redis.invalid:6390/2');
    expect(lines.join('')).not.toMatch(/chorus-prod|s3cret/);
  });

  it('starts a private redis-server with noeviction when nothing answers, and removes it on stop', async () => {
    const defaultUrl = `redis://127.0.0.1:${await freePort()}`;

    const redis = await resolveRedis({ defaultUrl, logger });
    started.push(redis);

    expect(redis.embedded).toBe(true);
    expect(redis.url).not.toBe(defaultUrl);
    const client = connect(redis.url);
    await client.connect();
    expect(await client.ping()).toBe('PONG');
    expect(await client.config('GET', 'maxmemory-policy')).toEqual(['maxmemory-policy', 'noeviction']);
    expect(await client.config('GET', 'appendonly')).toEqual(['appendonly', 'yes']);
    const [, dir] = (await client.config('GET', 'dir')) as [string, string];
    expect(dir).toMatch(/chorus-redis-/);
    client.disconnect();

    await redis.stop();

    expect(await answersPing(redis.url)).toBe(false);
    expect(await exists(dir)).toBe(false);
  });

  it('keeps the private redis-server answering when Ctrl-C signals the whole process group', async () => {
    // A process leading a group of its own, as npm start at a terminal: on SIGINT it checks its
    // Redis still answers for the second after (while workers finish their jobs), then stops it.
    // A server that got the SIGINT too is gone within a few of its 10 ms ticks.
    const script = `
      import { setTimeout as sleep } from 'node:timers/promises';
      import { resolveRedis } from './engine/redis/embedded-redis.ts';
      import { Redis } from 'ioredis';
      const redis = await resolveRedis({ defaultUrl: 'redis://127.0.0.1:${await freePort()}' });
      process.on('SIGINT', async () => {
        const client = new Redis(redis.url, { maxRetriesPerRequest: 0, retryStrategy: () => null });
        client.on('error', () => {});
        let answer = '';
        for (let i = 0; i < 20 && answer !== 'gone'; i++, await sleep(50))
          answer = await client.ping().catch(() => 'gone');
        client.disconnect();
        await redis.stop();
        console.log('after SIGINT: ' + answer);
        process.exit(0);
      });
      console.log('ready');
    `;
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      stdio: ['ignore', 'pipe', 'inherit'],
      detached: true,
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    await eventually(async () => output.includes('ready'), 10_000, 'the private redis-server');

    process.kill(-child.pid!, 'SIGINT');

    expect(await exited(child)).toEqual({ code: 0, signal: null });
    expect(output).toContain('after SIGINT: PONG');
  });

  it('stops the redis-server and deletes its folder when the process that started it is killed outright', async () => {
    // SIGKILL (kill -9, the OOM killer, a container stopped past its grace period) runs no exit
    // handler: the server, in a process group of its own, ran on with its data.
    const script = `
      import { resolveRedis } from './engine/redis/embedded-redis.ts';
      const redis = await resolveRedis({ defaultUrl: 'redis://127.0.0.1:${await freePort()}' });
      console.log('ready ' + redis.url);
      setInterval(() => {}, 1000);
    `;
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    let pid: number | undefined;
    try {
      await eventually(async () => output.includes('ready'), 10_000, 'the private redis-server');
      const url = output.split('ready ')[1]!.trim();
      const client = connect(url);
      await client.connect();
      pid = Number(/process_id:(\d+)/.exec(await client.info('server'))![1]);
      const [, dir] = (await client.config('GET', 'dir')) as [string, string];
      client.disconnect();

      child.kill('SIGKILL');

      await eventually(async () => !running(pid!), 5_000, 'the redis-server to be stopped');
      await eventually(async () => !(await exists(dir)), 5_000, 'its folder to be deleted');
    } finally {
      child.kill('SIGKILL');
      // What a failed run left behind.
      if (pid !== undefined && running(pid)) process.kill(pid, 'SIGKILL');
    }
  });

  it('stops the redis-server and deletes its folder when the process exits before it answers', async () => {
    const scratch = await mkdtemp(join(tmpdir(), 'chorus-slow-redis-'));
    // A redis-server that never answers: it notes its pid and folder (--dir), then waits.
    const binary = join(scratch, 'slow-redis-server');
    await writeFile(
      binary,
      `#!/bin/sh\necho "$$ $(echo "$@" | sed 's/.*--dir \\([^ ]*\\).*/\\1/')" > ${scratch}/started\nexec sleep 30\n`,
      { mode: 0o755 },
    );
    // As npm start on Ctrl-C during start-up: the process exits, through its exit handlers.
    const script = `
      import { resolveRedis } from './engine/redis/embedded-redis.ts';
      process.on('SIGTERM', () => process.exit(143));
      await resolveRedis({ defaultUrl: 'redis://127.0.0.1:${await freePort()}', redisServerBinary: '${binary}' });
    `;
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      stdio: 'ignore',
    });
    let started: string[] = [];
    try {
      started = (
        await eventually(
          async () => readFile(join(scratch, 'started'), 'utf8').catch(() => undefined),
          10_000,
          'the spawn',
        )
      )
        .trim()
        .split(' ');
      const [pid, dir] = started;

      child.kill('SIGTERM');

      expect(await exited(child)).toEqual({ code: 143, signal: null });
      await eventually(async () => !running(Number(pid)), 5_000, 'the redis-server to be stopped');
      expect(await exists(dir!)).toBe(false);
    } finally {
      child.kill('SIGKILL');
      // What a failed run left behind.
      if (started[0] && running(Number(started[0]))) process.kill(Number(started[0]), 'SIGKILL');
      await Promise.all(
        [scratch, started[1]].map((path) => path && rm(path, { recursive: true, force: true })),
      );
    }
  });

  it('rejects with a RedisUnavailableError that says how to fix it when redis-server is missing', async () => {
    const defaultUrl = `redis://127.0.0.1:${await freePort()}`;

    const error: unknown = await resolveRedis({
      defaultUrl,
      redisServerBinary: '/nonexistent/redis-server',
      logger,
    }).catch((caught: unknown) => caught);

    expect(error).toBeInstanceOf(RedisUnavailableError);
    expect(error).toMatchObject({ code: 'CHORUS_REDIS_UNAVAILABLE', name: 'RedisUnavailableError' });
    expect((error as Error).message).toContain('REDIS_URL');
    expect((error as Error).message).toContain('apt-get install');
  });

  it('stops, saying to set REDIS_URL, when the Redis on the default url asks for a password', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'chorus-requirepass-'));
    const port = await freePort();
    // prettier-ignore
    const guarded = spawn('redis-server', [
      '--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--requirepass', 'hunter2-secret',
    ], { stdio: 'ignore' });
    const defaultUrl = `redis://127.0.0.1:${port}`;
    try {
      await eventually(
        async () => (await answersPing(defaultUrl).catch(() => false)) || (await asksForPassword(defaultUrl)),
        5_000,
        'the guarded Redis',
      );

      const outcome = await resolveRedis({ defaultUrl, logger }).then(
        (resolved) => {
          started.push(resolved);
          return resolved;
        },
        (caught: unknown) => caught,
      );

      // It used to start a private redis-server beside it, whose data went with the process.
      expect(outcome).toBeInstanceOf(RedisUnavailableError);
      expect((outcome as Error).message).toBe(
        `A Redis answers on ${defaultUrl} but asks for a password (NOAUTH Authentication required.). ` +
          `To fix: set REDIS_URL with its password, redis://:<password>@127.0.0.1:${port} ` +
          '(or redis://<user>:<password>@…), or stop it to run on a private redis-server.',
      );
    } finally {
      guarded.kill('SIGKILL');
      await exited(guarded);
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('reuses the Redis already answering on the default url instead of embedding one', async () => {
    const redis = await resolveRedis({ defaultUrl: TEST_REDIS_URL, logger });

    expect(redis).toMatchObject({ url: TEST_REDIS_URL, embedded: false });
  });
});
