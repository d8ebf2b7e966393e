import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { counterRounds, customerIds, sendOverHttp, verifyCounterRun } from './support/counter-customers.js';
import { FAULT_CUSTOMERS, faultRun, postJson, sleep, type FaultRun } from './support/fault-run.js';
import { startFaultSmtp, type FaultSmtp } from './support/fault-smtp.js';
import { startPrivateRedis, type PrivateRedis } from './support/private-redis.js';

/** How long Redis stays away. */
const DOWN_MS = 4_000;
/** The API must answer within this while Redis is away: fail fast, not wait for a reconnect. */
const FAST_MS = 1_000;

describe('Redis restarted mid-run (AOF on)', () => {
  let redis: PrivateRedis;
  let smtp: FaultSmtp;
  let run: FaultRun;

  beforeAll(async () => {
    redis = await startPrivateRedis();
    smtp = await startFaultSmtp();
    run = faultRun({ redisUrl: redis.url, prefix: 'fault', smtp });
  });
  afterAll(async () => {
    await run.close();
    await smtp.close();
    await redis.stop();
  });

  it('answers 503 at once while Redis is away, 200 after, and the workers reconnect and finish the run', async () => {
    const started = Date.now();
    const ids = customerIds('restart', FAULT_CUSTOMERS);
    const { url } = await run.startApi();
    const workers = [run.startWorker(), run.startWorker()];
    const probe = async () => {
      const started = Date.now();
      const response = await postJson(
        `${url}/v1/track`,
        { userId: 'probe', event: 'Probe' },
        AbortSignal.timeout(10_000),
      );
      return { status: response.status, ms: Date.now() - started, body: await response.text() };
    };

    let halfSent!: () => void;
    const midRun = new Promise<void>((resolve) => (halfSent = resolve));
    let redisKilled!: () => void;
    const killed = new Promise<void>((resolve) => (redisKilled = resolve));
    const outage = (async () => {
      // Mid-run: half the rounds are in, the workers are busy with them, welcome emails going out.
      await midRun;
      while (smtp.accepted.length < ids.length / 10) await sleep(20);
      await redis.kill();
      redisKilled();
      const whileAway: Array<{ status: number; ms: number; body: string }> = [];
      const until = Date.now() + DOWN_MS;
      while (Date.now() < until) {
        whileAway.push(await probe());
        await sleep(200);
      }
      await redis.start();
      const back = Date.now();
      let after = await probe();
      while (after.status !== 200 && Date.now() - back < 15_000) {
        await sleep(100);
        after = await probe();
      }
      return { whileAway, after, backAfterMs: Date.now() - back };
    })();

    let unavailable = 0;
    const rounds = counterRounds(ids);
    for (const [index, round] of rounds.entries()) {
      // The rest of the rounds are sent into the outage, and retried until Redis is back.
      if (index === rounds.length / 2) {
        halfSent();
        await killed;
      }
      unavailable += await sendOverHttp(url, round);
    }
    const ingested = Date.now() - started;
    const { whileAway, after, backAfterMs } = await outage;

    expect(whileAway.length).toBeGreaterThan(5);
    for (const answer of whileAway) {
      expect(answer.status, answer.body).toBe(503);
      expect(answer.ms).toBeLessThan(FAST_MS);
      expect(JSON.parse(answer.body)).toMatchObject({ error: { code: 'CHORUS_UNAVAILABLE' } });
    }
    expect(after.status, after.body).toBe(200);
    expect(unavailable).toBeGreaterThan(0);

    const outcome = await verifyCounterRun(run, smtp, ids, 150_000);
    // The same worker processes, reconnected by themselves.
    for (const worker of workers) expect(worker.child.exitCode).toBeNull();
    expect(outcome.duplicates).toBeLessThanOrEqual(outcome.resent);
    console.info(
      `redis restart: ${ids.length} customers, ${whileAway.length} probes answered 503 (slowest ${Math.max(...whileAway.map((a) => a.ms))} ms), ` +
        `200 again ${backAfterMs} ms after restart, ${unavailable} batch requests retried, ${outcome.resent} sends resumed; ` +
        `ingest ${ingested} ms, all done ${Date.now() - started} ms`,
    );
  }, 240_000);
});
