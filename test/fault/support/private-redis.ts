import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { freePort } from '../../../engine/free-port.js';

/**
 * A private `redis-server` on a free port with its own data directory, that a test can kill and
 * start again on the same port and directory. AOF is on with `appendfsync always`: every write
 * is on disk before Redis answers it, so an event the API acknowledged survives even a
 * SIGKILL of Redis (`everysec` could lose the last second, and the check of "nothing lost" would
 * then be testing fsync timing rather than the engine).
 */
export async function startPrivateRedis() {
  const dir = mkdtempSync(join(tmpdir(), 'chorus-fault-redis-'));
  const port = await freePort();
  let child: ChildProcess | undefined;
  const start = async () => {
    const spawned = spawn(
      'redis-server',
      [
        '--port',
        String(port),
        '--bind',
        '127.0.0.1',
        '--dir',
        dir,
        '--save',
        '',
        '--appendonly',
        'yes',
        '--appendfsync',
        'always',
        '--maxmemory-policy',
        'noeviction',
        '--hz',
        '100',
        '--daemonize',
        'no',
        '--protected-mode',
        'yes',
      ],
      { stdio: 'ignore' },
    );
    child = spawned;
    const probe = new Redis(port, '127.0.0.1', {
      lazyConnect: true,
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
    });
    probe.on('error', () => {});
    const deadline = Date.now() + 10_000;
    for (;;) {
      // Ready means the AOF has been loaded: PING answers LOADING until then.
      const pong = await probe
        .connect()
        .then(
          () => probe.ping(),
          () => undefined,
        )
        .catch(() => undefined);
      if (pong === 'PONG') break;
      probe.disconnect();
      if (spawned.exitCode !== null || Date.now() > deadline)
        throw new Error(`redis-server on port ${port} did not start (exit ${spawned.exitCode})`);
      await new Promise((r) => setTimeout(r, 50));
    }
    probe.disconnect();
  };
  await start();
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    dir,
    /** Kills it with SIGKILL: no final fsync, no goodbye to clients. */
    async kill(): Promise<void> {
      const running = child;
      if (!running || running.exitCode !== null || running.signalCode !== null) return;
      const gone = new Promise((resolve) => running.once('exit', resolve));
      running.kill('SIGKILL');
      await gone;
    },
    /** Starts it again on the same port and directory; it reloads its AOF. */
    start,
    async stop(): Promise<void> {
      await this.kill();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export type PrivateRedis = Awaited<ReturnType<typeof startPrivateRedis>>;
