import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { freePort } from '../../engine/free-port.js';
import { logConnectionErrors } from '../../engine/index.js';
import { eventually } from '../support/redis.js';
import { exited } from '../support/worker-process.js';

/** A logger that keeps what it is told. */
function recordingLogger() {
  const lines: Array<{ level: string; obj: Record<string, unknown>; msg: string | undefined }> = [];
  const at = (level: string) => (obj: object, msg?: string) =>
    lines.push({ level, obj: obj as Record<string, unknown>, msg });
  return { lines, logger: { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') } };
}

describe('logConnectionErrors', () => {
  it('says once per interval that Redis is away, counting the failed reconnects left out, and says when it is back', async () => {
    const port = await freePort();
    // Nothing listens yet: every reconnect, every 10 ms here, fails with ECONNREFUSED.
    const redis = new Redis(`redis://127.0.0.1:${port}`, {
      retryStrategy: () => 10,
      maxRetriesPerRequest: null,
    });
    let clock = 1_000_000;
    const { lines, logger } = recordingLogger();
    logConnectionErrors(redis, logger, 'redis connection', { everyMs: 30_000, now: () => clock });
    const dir = await mkdtemp(join(tmpdir(), 'chorus-reconnect-'));
    let server: ReturnType<typeof spawn> | undefined;
    let errors = 0;
    redis.on('error', () => (errors += 1));
    try {
      await eventually(async () => errors >= 20, 10_000, 'twenty failed reconnects');
      // It used to log a warning for every one of them: a few a second for as long as Redis was away.
      expect(lines.filter((line) => line.level === 'warn')).toHaveLength(1);
      expect(lines[0]).toMatchObject({
        level: 'warn',
        msg: 'redis connection error; retrying (logged once per 30 s while it lasts)',
        obj: { err: expect.stringContaining('ECONNREFUSED') },
      });

      clock += 30_000;
      const seen = errors;
      await eventually(async () => errors > seen, 5_000, 'one more failed reconnect');
      const warnings = lines.filter((line) => line.level === 'warn');
      expect(warnings).toHaveLength(2);
      expect(warnings[1]!.obj.leftOut).toBeGreaterThanOrEqual(19);

      server = spawn(
        'redis-server',
        ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', ''],
        {
          stdio: 'ignore',
        },
      );
      await eventually(async () => redis.status === 'ready', 10_000, 'the reconnect');
      expect(lines.at(-1)).toMatchObject({ level: 'info', msg: 'redis connection is back' });
    } finally {
      redis.disconnect();
      server?.kill('SIGKILL');
      if (server) await exited(server);
      await rm(dir, { recursive: true, force: true });
    }
  });
});
