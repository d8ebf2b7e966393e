import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { demoPrefix, parseDemoOptions } from '../../workers/demo/demo-options.js';
import { formatEnding, formatReport, sendsFromMetrics } from '../../workers/demo/demo-report.js';
import { simulateCustomers } from '../../workers/demo/simulated-customers.js';
import { deleteKeysMatching } from '../../engine/index.js';
import { exited } from '../support/worker-process.js';
import { eventually, TEST_REDIS_ENV, testRedis } from '../support/redis.js';

describe('the demo shoppers', () => {
  it('are the same for the same seed, in time order, with a realistic mix', () => {
    const calls = simulateCustomers(400, 3);
    expect(simulateCustomers(400, 3)).toEqual(calls);
    expect(calls.map((c) => c.at)).toEqual([...calls.map((c) => c.at)].sort((a, b) => a - b));
    const count = (event: string) =>
      calls.filter((c) => c.call.type === 'track' && c.call.event === event).length;
    expect(count('Signed Up')).toBe(400);
    expect(count('Product Viewed')).toBeGreaterThan(200);
    expect(count('Product Viewed')).toBeLessThan(320);
    expect(count('Product Added')).toBeLessThan(count('Product Viewed'));
    expect(count('Order Completed')).toBeLessThan(count('Product Added'));
    expect(count('Order Completed')).toBeGreaterThan(20);
    // Each shopper is identified before signing up.
    const first = calls.find((c) => c.call.userId === 'demo-0000');
    expect(first?.call.type).toBe('identify');
  });
});

describe('the demo report', () => {
  it('shows the funnel, the conversion rate and messages per channel', () => {
    const sends = sendsFromMetrics(
      '# HELP chorus_sends_total x\nchorus_sends_total{channel="email",status="sent"} 12\nchorus_sends_total{channel="sms",status="sent"} 3\n',
    );
    expect(sends).toEqual([
      { channel: 'email', status: 'sent', count: 12 },
      { channel: 'sms', status: 'sent', count: 3 },
    ]);
    const report = formatReport(
      [
        {
          id: 'yue',
          entered: 10,
          converted: 4,
          funnel: { awareness: 10, consideration: 8, decision: 5, loyalty: 4 },
          stages: {},
          exits: { completed: 4, lapsed: 6 },
        },
      ],
      sends,
    );
    expect(report).toMatch(/consideration\s+8\s+80\.0%/);
    expect(report).toContain('Goal conversion: 4 of 10 (40.0%)');
    expect(report).toMatch(/email\s+sent 12/);
    expect(report).toContain(`80.0%  ${'█'.repeat(24)}\n`);
    expect(report).not.toMatch(/ $/m);
  });
});

describe('the demo ending', () => {
  it('says the run settled, or that the --days cap stopped it and what was left', () => {
    expect(formatEnding({ day: 41.96, cap: 365, left: { notEntered: 0, inJourney: 0, queued: 0 } })).toBe(
      'Settled on journey day 42.0: every shopper has finished, and no job is left.',
    );
    expect(formatEnding({ day: 45.1, cap: 45, left: { notEntered: 0, inJourney: 184, queued: 911 } })).toBe(
      'Stopped at the cap of 45 journey days (--days) before the run settled: 184 customer(s) still in a journey, ' +
        '911 job(s) waiting or running. The figures above are partial. To finish, raise --days, or lower ' +
        '--time-scale so the workers keep up.',
    );
  });
});

describe('the demo command line', () => {
  it('reads the options, and --help asks for the usage', () => {
    expect(parseDemoOptions(['--customers', '40', '--days', '9'])).toEqual({
      customers: 40,
      'time-scale': 86_400,
      seed: 7,
      days: 9,
    });
    expect(parseDemoOptions(['--help'])).toBeUndefined();
  });

  it('names a bad or unknown option in a usage error', () => {
    expect(() => parseDemoOptions(['--customers', '1.5'])).toThrow(
      /--customers: "1\.5" is not a whole number: write decimal digits only/,
    );
    expect(() => parseDemoOptions(['--customers', 'many'])).toThrow(
      /--customers: "many" is not a whole number[\s\S]*usage: npm run demo/,
    );
    // Number() reads these as 16, 3, 1000 and 0: a count is written in decimal digits, as the
    // environment's numbers are.
    for (const given of ['0x10', '0b11', '1e3', ''])
      expect(() => parseDemoOptions([`--customers=${given}`])).toThrow(
        new RegExp(`--customers: "${given}" is not a whole number`),
      );
    expect(() => parseDemoOptions(['--time-scale', '1e6'])).toThrow(
      /--time-scale: "1e6" is not a number: write decimal digits, with a point for a fraction/,
    );
    expect(parseDemoOptions(['--time-scale', '1000000', '--days', '2.5'])).toMatchObject({
      'time-scale': 1_000_000,
      days: 2.5,
    });
    expect(() => parseDemoOptions(['--customers', '0'])).toThrow(/--customers: Too small/);
    expect(() => parseDemoOptions(['--shoppers', '5'])).toThrow(
      expect.objectContaining({ code: 'CHORUS_CLI_USAGE', message: expect.stringMatching(/--shoppers/) }),
    );
  });

  it('runs under a prefix of its own below the one the environment names', () => {
    expect(demoPrefix('staging', 'a1b2c3')).toBe('staging-demo-a1b2c3');
    expect(demoPrefix(undefined, 'a1b2c3')).toBe('chorus-demo-a1b2c3');
    expect(demoPrefix('p'.repeat(40), 'a1b2c3')).toHaveLength(40);
  });

  it('exits 2 with the usage, not a stack trace, on an option it cannot read', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'workers/demo.ts', '--customers', 'x'], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let errors = '';
    child.stderr.on('data', (chunk: Buffer) => (errors += chunk.toString()));
    expect(await exited(child)).toEqual({ code: 2, signal: null });
    expect(errors).toMatch(/^CHORUS_CLI_USAGE: --customers: /);
    expect(errors).not.toMatch(/\n\s+at /);
  });
});

describe('npm run demo', () => {
  /**
   * Runs the demo beside a key of the prefix the environment names, as an engine running beside it
   * would have; `interrupt` sends it SIGINT once it has shown progress, or during its start-up,
   * as soon as its development secrets are in Redis (its workers and API start after them); or,
   * `reader-gone`, closes its output after three lines, as `npm run demo | head -3` does.
   * Checks that it deleted its own keys and no others, and deletes its outbox.
   */
  async function runDemo(
    args: string[],
    interrupt?: 'running' | 'starting' | 'reader-gone',
  ): Promise<string> {
    const ctx = testRedis();
    let outbox: string | undefined;
    // A run stopped while it starts never names its outbox: it is made in a folder of the test's.
    const tmp = mkdtempSync(join(tmpdir(), 'chorus-demo-test-'));
    try {
      await ctx.redis.set(`${ctx.prefix}:c:{ada}:kept`, 'kept');
      const child = spawn(
        process.execPath,
        ['--import', 'tsx', 'workers/demo.ts', '--customers', '30', '--time-scale', '2000000', ...args],
        {
          env: {
            ...process.env,
            ...TEST_REDIS_ENV,
            REDIS_PREFIX: ctx.prefix,
            LOG_LEVEL: 'error',
            TMPDIR: tmp,
          },
          stdio: ['ignore', 'pipe', 'inherit'],
        },
      );
      let output = '';
      child.stdout.on('data', (chunk: Buffer) => {
        output += chunk.toString();
        // Named in its first lines, so a run that fails later still has it deleted.
        outbox ??= /written to (\S+)\n/.exec(output)?.[1];
        if (interrupt === 'running' && /^day /m.test(output)) child.kill('SIGINT');
        if (interrupt === 'reader-gone' && output.split('\n').length > 3) child.stdout.destroy();
      });
      if (interrupt === 'starting')
        void eventually(
          async () => (await ctx.redis.keys(`${ctx.prefix}-demo-*:dev-secrets`)).length > 0,
          30_000,
          'the development secrets',
        ).then(() => child.kill('SIGINT'));
      expect(await exited(child)).toEqual({ code: interrupt === 'starting' ? 130 : 0, signal: null });
      // The demo ran under a prefix of its own and deleted that one alone.
      if (interrupt !== 'starting')
        expect(output).toMatch(
          new RegExp(`Redis key prefix ${ctx.prefix}-demo-[0-9a-f]{6}, deleted at the end`),
        );
      expect(await ctx.redis.keys(`*${ctx.prefix}*`)).toEqual([`${ctx.prefix}:c:{ada}:kept`]);
      if (!interrupt) expect(outbox && readdirSync(outbox).length).toBeGreaterThan(0);
      // Stopped before any message went out, it leaves no empty outbox behind in the temporary folder.
      if (interrupt === 'starting')
        expect(readdirSync(tmp).filter((name) => name.startsWith('chorus-demo-outbox-'))).toEqual([]);
      return output;
    } finally {
      if (outbox) rmSync(outbox, { recursive: true, force: true });
      rmSync(tmp, { recursive: true, force: true });
      // Whatever a failed run left, under the test's prefix or the demo's below it.
      await deleteKeysMatching(ctx.redis, [`${ctx.prefix}*`, `{${ctx.prefix}*`]);
      await ctx.cleanup();
    }
  }

  it('drives shoppers through the journeys over HTTP and reports, leaving nothing in Redis', async () => {
    const output = await runDemo([]);
    expect(output).toMatch(/customers entered/);
    expect(output).toMatch(/Funnel by stage\n\s+awareness\s+30\s+100\.0%/);
    expect(output).toMatch(/Goal conversion: \d+ of 30/);
    expect(output).toMatch(/email\s+sent \d+/);
    expect(output).toMatch(/Settled on journey day \d+\.\d: every shopper has finished/);
    // The outbox is kept for the reader and named in the last line.
    expect(output).toMatch(/\nThe messages sent are in \S+; delete it when you are done\.\n$/);
  }, 60_000);

  it('deletes its keys when stopped with Ctrl-C, as when it ends', async () => {
    // Slower, so it is still running when it is stopped; the later --time-scale is the one taken.
    const output = await runDemo(['--time-scale', '20000'], 'running');
    expect(output).not.toMatch(/Settled on journey day/);
  }, 60_000);

  it('deletes its keys when stopped with Ctrl-C while it starts, and shows no shopper', async () => {
    const output = await runDemo([], 'starting');
    expect(output).not.toMatch(/^day /m);
  }, 60_000);

  it('deletes its keys when the reader of its output goes (npm run demo | head -3), and exits 0', async () => {
    // Slower, so it is still running when its output is closed.
    const output = await runDemo(['--time-scale', '20000'], 'reader-gone');
    expect(output).not.toMatch(/Settled on journey day/);
  }, 60_000);

  it('says so when it stops at the --days cap before the shoppers have finished', async () => {
    const output = await runDemo(['--days', '3']);
    expect(output).toMatch(/Messages per channel/);
    expect(output).toMatch(
      /Stopped at the cap of 3 journey days \(--days\) before the run settled: .+\. The figures above are partial\./,
    );
    expect(output).not.toMatch(/Settled on journey day/);
  }, 60_000);
});
