import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { runNode } from '../support/cli-process.js';
import { eventually, TEST_REDIS_ENV, testRedis } from '../support/redis.js';
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
});
