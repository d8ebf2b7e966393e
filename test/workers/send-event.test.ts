import { afterAll, describe, expect, it } from 'vitest';
import { runNode } from '../support/cli-process.js';
import { TEST_REDIS_ENV, testRedis } from '../support/redis.js';

/** Runs `npm run event -- …` as npm does: workers/send-event.ts through tsx, in a process of its own. */
const runEvent = (args: readonly string[], env: Record<string, string>) =>
  runNode(['--import', 'tsx', 'workers/send-event.ts', ...args], {
    ...process.env,
    LOG_LEVEL: 'warn',
    ...env,
  });

describe('npm run event', () => {
  const { prefix, cleanup } = testRedis();
  afterAll(cleanup);
  const env = { ...TEST_REDIS_ENV, REDIS_PREFIX: prefix };

  it('stores an event and shows the customer, whatever the variables it does not use say', async () => {
    // Meant for the workers and the API: a bad value there is theirs to refuse, not this tool's.
    const stored = await runEvent(['identify', 'ada', '{"firstName":"Ada"}'], {
      ...env,
      PORT: 'abc',
      SMTP_URL: 'not a url',
    });
    expect(stored).toMatchObject({ code: 0, stdout: expect.stringContaining('"accepted": true') });
    const shown = await runEvent(['show', 'ada'], env);
    expect(shown).toMatchObject({ code: 0, stdout: expect.stringContaining('"pendingEvents": 1') });
  });

  it('says so, with status 1, when it shows a customer nothing is stored of, as the API answers 404', async () => {
    // Before, a misspelt id or another REDIS_PREFIX than the engine's printed an empty customer.
    const shown = await runEvent(['show', 'nobody-here'], env);
    expect(shown).toMatchObject({
      code: 1,
      stdout: '',
      stderr: expect.stringContaining(`CHORUS_NOT_FOUND: No customer "nobody-here" in Redis`),
    });
    expect(shown.stderr).toContain(`under REDIS_PREFIX ${prefix}. To fix: check the id, or set REDIS_PREFIX`);
  }, 60_000);

  it('prints its usage on --help, without Redis, and refuses an argument it does not take', async () => {
    const noRedis = { ...env, REDIS_URL: 'redis://127.0.0.1:1', REDIS_CLUSTER_NODES: '' };
    for (const help of ['--help', '-h', 'help'])
      expect(await runEvent([help], noRedis)).toEqual({
        code: 0,
        stdout: expect.stringMatching(/^usage: npm run event -- identify <userId> \[traitsJson\]\n/),
        stderr: '',
      });
    expect(await runEvent(['identify', 'ada', '{}', '{"plan":"pro"}'], noRedis)).toEqual({
      code: 2,
      stdout: '',
      stderr: expect.stringMatching(
        /^CHORUS_CLI_USAGE: identify: unexpected argument "\{"plan":"pro"\}"\.\n\nusage:/,
      ),
    });
    // Four processes, each starting tsx: several seconds apiece on a loaded machine.
  }, 90_000);

  it('reads --help after the command as help, and refuses an option rather than take it as an id', async () => {
    // Without Redis: before, `identify --help` stored an identify of a customer called "--help".
    const noRedis = { ...env, REDIS_URL: 'redis://127.0.0.1:1', REDIS_CLUSTER_NODES: '' };
    expect(await runEvent(['identify', '--help'], noRedis)).toEqual({
      code: 0,
      stdout: expect.stringMatching(/^usage: npm run event -- identify <userId> \[traitsJson\]\n/),
      stderr: '',
    });
    expect(await runEvent(['show', '--verbose'], noRedis)).toEqual({
      code: 2,
      stdout: '',
      stderr: expect.stringMatching(
        /^CHORUS_CLI_USAGE: show: unknown option "--verbose"; an argument that starts with "-" goes after "--"\.\n\nusage:/,
      ),
    });
    // After `--`, an id that starts with a dash is taken as written.
    const shown = await runEvent(['show', '--', '-ada'], env);
    expect(shown).toMatchObject({ code: 1, stderr: expect.stringContaining('No customer "-ada"') });
  }, 90_000);

  it('says which Redis did not answer and how to point at the right one, with status 1', async () => {
    // Nothing listens on port 1: as when the engine runs a private Redis and REDIS_URL was not given.
    const result = await runEvent(['show', 'ada'], {
      ...env,
      REDIS_URL: 'redis://127.0.0.1:1',
      REDIS_CLUSTER_NODES: '',
    });
    expect(result).toEqual({
      code: 1,
      stdout: '',
      stderr: expect.stringMatching(
        /^CHORUS_REDIS_UNAVAILABLE: Redis at redis:\/\/127\.0\.0\.1:1 did not answer \(.*ECONNREFUSED.*\)\. To fix: .*REDIS_URL/,
      ),
    });
    expect(result.stderr).not.toContain('Unhandled error event');
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
  });
});
