import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { exited, running } from '../support/worker-process.js';
import { eventually, TEST_REDIS_ENV, testRedis } from '../support/redis.js';

/**
 * The npm scripts as a container runtime or systemd runs them: the signal goes to npm's own
 * process id, not to node's. npm forwards it to its child, so that child must be node itself (no
 * shell or tsx wrapper in between that would die and leave node running on its own).
 */
describe('npm scripts under a service manager', () => {
  const ctx = testRedis();
  const outbox = mkdtempSync(join(tmpdir(), 'chorus-npm-scripts-'));
  /** The process group of each script run: npm's id, as it leads a group of its own. */
  const groups: number[] = [];
  afterAll(async () => {
    // Every process of every run, node included also where it never said it had started (a
    // test that timed out waiting): an engine still running re-creates keys after the cleanup.
    for (const group of groups) {
      try {
        process.kill(-group, 'SIGKILL');
      } catch {
        // ESRCH: the group had exited already.
      }
    }
    await eventually(async () => groups.every((group) => !running(-group)), 10_000, 'the scripts to exit');
    rmSync(outbox, { recursive: true, force: true });
    await ctx.cleanup();
  });

  /** Runs `npm run <script>` in a process group of its own; resolves once the engine has started. */
  async function startScript(script: string) {
    const npm = spawn('npm', ['run', '--silent', script], {
      env: {
        ...process.env,
        ...TEST_REDIS_ENV,
        REDIS_PREFIX: ctx.prefix,
        OUTBOX_DIR: outbox,
        PORT: '0',
        // A worker without the API cannot know the port PORT=0 picks: its links need PUBLIC_URL.
        ...(script === 'start:worker' ? { PUBLIC_URL: 'https://chorus.example.com' } : {}),
        LOG_LEVEL: 'info',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    groups.push(npm.pid!);
    let log = '';
    npm.stdout.on('data', (chunk: Buffer) => (log += chunk.toString()));
    npm.stderr.on('data', (chunk: Buffer) => (log += chunk.toString()));
    // pino writes the process id of node into every line.
    const enginePid = Number(
      await eventually(
        async () => /"pid":(\d+)[^\n]*"msg":"chorus engine started"/.exec(log)?.[1],
        30_000,
        `npm run ${script} to start the engine`,
      ),
    );
    return { npm, enginePid, log: () => log };
  }

  it.each(['start', 'start:api', 'start:worker'])(
    'npm run %s stops cleanly, node included, when SIGTERM is sent to npm',
    async (script) => {
      const { npm, enginePid, log } = await startScript(script);
      expect(enginePid).not.toBe(npm.pid);
      npm.kill('SIGTERM');
      expect(await exited(npm)).toEqual({ code: 0, signal: null });
      expect(log()).toContain('"msg":"stopped"');
      expect(running(enginePid)).toBe(false);
    },
    60_000,
  );

  it('npm start stops cleanly on Ctrl-C, which reaches node both from the terminal and from npm', async () => {
    const { npm, enginePid, log } = await startScript('start');
    // A terminal signals its whole foreground process group.
    process.kill(-npm.pid!, 'SIGINT');
    expect(await exited(npm)).toEqual({ code: 0, signal: null });
    expect(log()).toContain('"msg":"stopped"');
    expect(running(enginePid)).toBe(false);
  }, 60_000);
});
