import { spawn } from 'node:child_process';
import { createServer, type AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { runNode } from '../support/cli-process.js';
import { eventually, TEST_REDIS_ENV, TEST_REDIS_TARGET, testRedis } from '../support/redis.js';
import { exited } from '../support/worker-process.js';

/** `npm start` as npm runs it, to its end: what it printed and its exit status. */
const start = (env: Record<string, string>) =>
  runNode(['--import', 'tsx', 'workers/start.ts'], { ...process.env, PORT: '0', LOG_LEVEL: 'warn', ...env });

describe('npm start', () => {
  it('names JOURNEYS_DIR and TEMPLATES_DIR when they name no folder, before it connects to Redis', async () => {
    // Nothing listens on port 1: the folders are checked first, so no connection is tried.
    const result = await start({
      JOURNEYS_DIR: 'no/such/journeys',
      TEMPLATES_DIR: 'no/such/templates',
      REDIS_URL: 'redis://127.0.0.1:1',
      REDIS_CLUSTER_NODES: '',
    });
    expect(result).toEqual({
      code: 1,
      stdout: '',
      stderr: expect.stringMatching(
        /^CHORUS_CONFIG_INVALID: Invalid configuration: JOURNEYS_DIR: the folder no\/such\/journeys does not exist \(looked for from .+\); TEMPLATES_DIR: the folder no\/such\/templates does not exist \(looked for from .+\)\. To fix: /,
      ),
    });
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('refuses in production to send real email without PUBLIC_URL, whose unsubscribe links would lead to localhost', async () => {
    const { PUBLIC_URL: _unset, ...env } = process.env;
    const result = await runNode(['--import', 'tsx', 'workers/start.ts'], {
      ...env,
      PORT: '0',
      LOG_LEVEL: 'warn',
      NODE_ENV: 'production',
      SMTP_URL: 'smtp://127.0.0.1:1',
      REDIS_URL: 'redis://127.0.0.1:1',
      REDIS_CLUSTER_NODES: '',
    });
    expect(result).toEqual({
      code: 1,
      stdout: '',
      stderr: expect.stringMatching(
        /^CHORUS_CONFIG_INVALID: Invalid configuration: PUBLIC_URL: unset while SMTP_URL sends email: every email's unsubscribe link would lead to http:\/\/localhost/,
      ),
    });
  });

  it('names a JOURNEYS_DIR that is a file, not a folder, before it connects to Redis', async () => {
    const result = await start({
      JOURNEYS_DIR: 'package.json',
      REDIS_URL: 'redis://127.0.0.1:1',
      REDIS_CLUSTER_NODES: '',
    });
    expect(result).toEqual({
      code: 1,
      stdout: '',
      stderr: expect.stringMatching(
        /^CHORUS_CONFIG_INVALID: Invalid configuration: JOURNEYS_DIR: the folder package\.json is not a folder \(looked for from .+\)\. To fix: /,
      ),
    });
  });

  it('ends with the status of SIGTERM when it gets one during start-up, through its exit handlers', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'workers/start.ts'], {
      env: {
        ...process.env,
        PORT: '0',
        LOG_LEVEL: 'info',
        JOURNEYS_DIR: 'test/fixtures/slow-journeys',
        REDIS_URL: 'redis://127.0.0.1:1',
        REDIS_CLUSTER_NODES: '',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
      child.once('exit', (code, signal) => resolve({ code, signal })),
    );
    // The Redis is found (the url is taken as given), then the journeys take seconds to load.
    let out = '';
    await new Promise<void>((resolve) =>
      child.stdout.on('data', (chunk: Buffer) => {
        out += chunk.toString();
        if (out.includes('using the Redis given by url')) resolve();
      }),
    );
    child.kill('SIGTERM');
    // Not killed by the signal: the process ran its exit handlers (which stop a private Redis).
    expect(await exited).toEqual({ code: 143, signal: null });
  });

  it('stops cleanly, as on SIGTERM, on the SIGHUP of a closed terminal', async () => {
    const ctx = testRedis();
    const child = spawn(process.execPath, ['--import', 'tsx', 'workers/start.ts'], {
      env: { ...process.env, PORT: '0', LOG_LEVEL: 'info', ...TEST_REDIS_ENV, REDIS_PREFIX: ctx.prefix },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    try {
      let log = '';
      child.stdout.on('data', (chunk: Buffer) => (log += chunk.toString()));
      await eventually(async () => log.includes('chorus engine started'), 30_000, 'the engine to start');

      child.kill('SIGHUP');

      // Not killed by the signal, which would leave the jobs it ran and a private Redis behind.
      expect(await exited(child)).toEqual({ code: 0, signal: null });
      expect(log).toContain('"msg":"stopped"');
    } finally {
      child.kill('SIGKILL');
      await exited(child);
      await ctx.cleanup();
    }
  }, 60_000);

  it('npm run start:worker ends at once, naming REDIS_URL, when Redis refuses its user and password', async () => {
    // A user the test Redis does not have: it answers WRONGPASS to every connection.
    const refused =
      TEST_REDIS_TARGET.kind === 'single'
        ? {
            REDIS_URL: TEST_REDIS_TARGET.url.replace('redis://', 'redis://no-such-user:pw@'),
            REDIS_CLUSTER_NODES: '',
          }
        : {
            REDIS_URL: '',
            REDIS_CLUSTER_NODES: TEST_REDIS_TARGET.nodes
              .map((node) => `redis://no-such-user:pw@${node.host}:${node.port}`)
              .join(','),
          };
    const child = spawn(process.execPath, ['--import', 'tsx', 'workers/worker.ts'], {
      // In production no start-up step of a worker reads Redis on its own (no secrets to share).
      env: {
        ...process.env,
        LOG_LEVEL: 'warn',
        NODE_ENV: 'production',
        UNSUBSCRIBE_SECRET: 'a'.repeat(32),
        ...refused,
      },
      stdio: ['ignore', 'ignore', 'pipe'],
      // Ended, not left running, where it does not end by itself.
      timeout: 15_000,
      killSignal: 'SIGKILL',
    });
    try {
      let stderr = '';
      child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      // It used to run on, refused again a few times a second, and never exit.
      expect(await exited(child)).toEqual({ code: 1, signal: null });
      expect(stderr).toMatch(
        /^CHORUS_REDIS_UNAVAILABLE: Redis at [^(]+ refused this process's credentials \(WRONGPASS [^)]*\)\. To fix: correct the user name and password in REDIS_URL \(or REDIS_CLUSTER_NODES\)\.$/m,
      );
      expect(stderr).not.toContain(':pw@');
    } finally {
      child.kill('SIGKILL');
    }
  }, 20_000);

  it('names PORT when another process, a second npm start say, already listens on it', async () => {
    const ctx = testRedis();
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    const port = (taken.address() as AddressInfo).port;
    try {
      const result = await start({ ...TEST_REDIS_ENV, REDIS_PREFIX: ctx.prefix, PORT: String(port) });
      expect(result.code).toBe(1);
      expect(result.stderr).toBe(
        `CHORUS_CONFIG_INVALID: Invalid configuration: PORT: 127.0.0.1:${port} is already in use by another process; ` +
          'choose a free port (or 0 for any). To fix: correct or unset the named environment variables (see the README, Configuration).\n',
      );
    } finally {
      taken.close();
      await ctx.cleanup();
    }
  }, 30_000);
});
