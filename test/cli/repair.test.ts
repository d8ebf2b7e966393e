import { afterEach, describe, expect, it } from 'vitest';
import { phoneIndexKey, readJourneyCounts, runCli, type Engine } from '../../engine/index.js';
import { journeyCountsKey } from '../../engine/store/journey-counts.js';
import { freePort } from '../../engine/free-port.js';
import { runChorus } from '../support/cli-process.js';
import { onboardingEngine } from '../support/engine.js';
import { eventually, TEST_REDIS_ENV, testRedis } from '../support/redis.js';

const PHONE = '+14155550123';

describe('chorus repair', () => {
  let ctx: ReturnType<typeof testRedis>;
  const engines: Engine[] = [];
  afterEach(async () => {
    for (const engine of engines.splice(0)) await engine.close();
    await ctx.cleanup();
  });

  /** Ada and Bob signed up, Ada with a phone number; the workers have applied it all. */
  async function twoCustomers(): Promise<Engine> {
    ctx = testRedis();
    const engine = onboardingEngine(ctx, undefined);
    engines.push(engine);
    engine.startWorkers({ deliveries: false });
    await engine.identify({ userId: 'ada', traits: { phone: PHONE } });
    await engine.track({ userId: 'ada', event: 'Signed Up' });
    await engine.track({ userId: 'bob', event: 'Signed Up' });
    await eventually(async () => {
      const [counts] = await readJourneyCounts(ctx.redis, ctx.prefix, 'onboarding');
      const ada = await engine.customer('ada');
      return counts?.entered === 2 && ada.profile['phone'] === PHONE && ada.pendingEvents === 0
        ? true
        : undefined;
    });
    return engine;
  }

  /** A count and the phone index as a crash on a Redis Cluster can leave them. */
  async function damage(): Promise<{ counts: Record<string, string> }> {
    const countsKey = journeyCountsKey(ctx.prefix, 'onboarding');
    const counts = await ctx.redis.hgetall(countsKey);
    const [field] = Object.keys(counts).filter((name) => name.includes('|entered'));
    expect(field).toBeDefined();
    await ctx.redis.hset(countsKey, field!, '7');
    await ctx.redis.del(phoneIndexKey(ctx.prefix));
    await ctx.redis.zadd(phoneIndexKey(ctx.prefix), 0, `${PHONE}|bob`);
    return { counts };
  }

  const env = () => ({ ...TEST_REDIS_ENV, REDIS_PREFIX: ctx.prefix });

  it('rebuilds the journey counts and the phone index, and says what was off', async () => {
    const engine = await twoCustomers();
    await engine.close();
    engines.pop();
    const { counts } = await damage();

    const run = await runChorus(['repair'], env());
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toContain(`Repaired Redis `);
    expect(run.stdout).toContain(`under REDIS_PREFIX ${ctx.prefix}.`);
    expect(run.stdout).toMatch(
      /^Journey counts: rebuilt from 2 customer\(s\); 1 count\(s\) corrected:\n {2}onboarding {2}1\|[^\n]*entered[^\n]*: 7 -> 2$/m,
    );
    expect(run.stdout).toMatch(
      /^Phone index: rebuilt, 1 customer\(s\) with a number; 1 missing entry\(ies\) added, 1 stale entry\(ies\) removed\.$/m,
    );
    expect(await ctx.redis.hgetall(journeyCountsKey(ctx.prefix, 'onboarding'))).toEqual(counts);
    expect(await ctx.redis.zrange(phoneIndexKey(ctx.prefix), 0, -1)).toEqual([`${PHONE}|ada`]);

    // Once repaired, nothing is off.
    const again = await runChorus(['repair'], env());
    expect(again.code).toBe(0);
    expect(again.stdout).toContain('every count was right.');
    expect(again.stdout).toContain('1 customer(s) with a number; every entry was right.');
  }, 30_000);

  it('refuses while journey workers run, and repairs even so with --force', async () => {
    await twoCustomers();
    await damage();

    const refused = await runChorus(['repair'], env());
    expect(refused.code).toBe(1);
    expect(refused.stdout).toBe('');
    expect(refused.stderr).toMatch(
      /^CHORUS_REPAIR_REFUSED: 1 journey worker\(s\) run on Redis .* under REDIS_PREFIX chorus-test-[0-9a-f]+; .*To fix: stop the workers/,
    );
    // Nothing was touched.
    expect(await ctx.redis.zrange(phoneIndexKey(ctx.prefix), 0, -1)).toEqual([`${PHONE}|bob`]);

    const forced = await runChorus(['repair', '--force'], env());
    expect(forced.code).toBe(0);
    expect(forced.stdout).toMatch(/1 count\(s\) corrected/);
    expect(await ctx.redis.zrange(phoneIndexKey(ctx.prefix), 0, -1)).toEqual([`${PHONE}|ada`]);
  }, 30_000);

  it('writes no key under a prefix that holds no customer, and says to check the prefix', async () => {
    ctx = testRedis();
    const out: string[] = [];
    const io = { stdout: (text: string) => out.push(text), stderr: () => undefined, env: env() };
    expect(await runCli(['repair'], io)).toBe(0);
    expect(out.join('')).toMatch(/\nNo customer is stored there: .*REDIS_PREFIX/);
    expect(await ctx.redis.keys(`*${ctx.prefix}*`)).toEqual([]);
  });

  it('says which Redis did not answer, and how to name the right one', async () => {
    ctx = testRedis();
    const out: string[] = [];
    const err: string[] = [];
    const io = {
      stdout: (text: string) => out.push(text),
      stderr: (text: string) => err.push(text),
      env: { REDIS_URL: `redis://127.0.0.1:${await freePort()}`, REDIS_PREFIX: ctx.prefix },
    };
    expect(await runCli(['repair'], io)).toBe(1);
    expect(err.join('')).toMatch(
      /^CHORUS_REDIS_UNAVAILABLE: Redis at redis:\/\/127\.0\.0\.1:\d+ did not answer .*To fix: /,
    );
    expect(out).toEqual([]);
  });

  it('has help that says what it rebuilds and when to run it', async () => {
    ctx = testRedis();
    const out: string[] = [];
    const io = { stdout: (text: string) => out.push(text), stderr: () => undefined, env: {} };
    expect(await runCli(['repair', '--help'], io)).toBe(0);
    expect(out.join('')).toMatch(
      /^usage: chorus repair \[--force\]\n[\s\S]*recountJourneys[\s\S]*rebuildPhoneIndex[\s\S]*quiet/,
    );
    out.length = 0;
    expect(await runCli(['--help'], io)).toBe(0);
    expect(out.join('')).toMatch(/\n {2}repair {2,}rebuild the journey counts and the phone index/);
  });
});
