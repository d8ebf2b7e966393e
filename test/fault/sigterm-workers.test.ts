import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEST_REDIS_URL, testRedis } from '../support/redis.js';
import { counterRounds, customerIds, sendDirect, verifyCounterRun } from './support/counter-customers.js';
import { FAULT_CUSTOMERS, faultRun, sleep, type FaultRun } from './support/fault-run.js';
import { startFaultSmtp, type FaultSmtp } from './support/fault-smtp.js';
import type { ChorusProcess } from './support/chorus-process.js';

const DEADLINE_MS = 3_000;
/** What a process may take beyond the deadline to close its connections and exit. */
const EXIT_MARGIN_MS = 3_000;

/** Waits until `count` worker processes are connected to the journeys queue (and so past start-up). */
async function workersReady(run: FaultRun, count: number): Promise<void> {
  while ((await run.reader.queues.journeys.getWorkersCount()) < count) await sleep(50);
  // The signal handlers are installed just after the workers start.
  await sleep(200);
}

/** The jobs whose locks lapsed while the processes ran them, by the warning each process logs. */
function lapsedLockJobs(workers: readonly ChorusProcess[]): Set<string> {
  const ids = new Set<string>();
  for (const line of workers.flatMap((w) => w.log().split('\n'))) {
    // The kept log is a tail, so its first line may be cut: read the field, not the JSON.
    const jobId = line.includes('the lock of a running job lapsed') && /"jobId":"([^"]+)"/.exec(line)?.[1];
    if (jobId) ids.add(jobId);
  }
  return ids;
}

/** Sends SIGTERM to every worker at once; resolves with each one's exit and how long it took. */
async function terminate(workers: readonly ChorusProcess[]) {
  const started = Date.now();
  for (const worker of workers) worker.kill('SIGTERM');
  return Promise.all(workers.map(async (w) => ({ ...(await w.exited), ms: Date.now() - started })));
}

describe('SIGTERM during load', () => {
  const ctx = testRedis();
  let smtp: FaultSmtp;
  let run: FaultRun;

  beforeAll(async () => {
    smtp = await startFaultSmtp();
    run = faultRun({
      redisUrl: TEST_REDIS_URL,
      prefix: ctx.prefix,
      smtp,
      env: { SHUTDOWN_DEADLINE_MS: String(DEADLINE_MS) },
    });
  });
  afterAll(async () => {
    await run.close();
    await smtp.close();
    await ctx.cleanup();
  });

  it('workers finish their jobs or hand them back within the deadline and exit 0; a new worker finishes the run', async () => {
    const ids = customerIds('term', FAULT_CUSTOMERS);
    const rounds = counterRounds(ids);
    const half = rounds.length / 2;

    // 1. Busy workers, every job quick: all of them stop, finishing what they hold, in time.
    let workers = [run.startWorker(), run.startWorker()];
    await workersReady(run, 2);
    for (const round of rounds.slice(0, half)) await sendDirect(run, round);
    while ((await run.reader.queues.journeys.getActiveCount()) === 0) await sleep(20);
    const busy = await terminate(workers);
    for (const exit of busy) {
      expect(exit).toMatchObject({ code: 0, signal: null });
      expect(exit.ms).toBeLessThan(DEADLINE_MS + EXIT_MARGIN_MS);
    }
    // Workers that stopped before the deadline finished what they held: no job is still marked
    // active by a process that has gone. On a starved machine the deadline may pass first, or a
    // job's lock may lapse before its renewal (the process logs it): BullMQ then no longer counts
    // the job as held, and those jobs are re-run as stalled; the final check still finds every
    // customer done and no email sent twice.
    if (busy.every((exit) => exit.ms < DEADLINE_MS)) {
      const lapsed = lapsedLockJobs(workers);
      for (const queue of [run.reader.queues.journeys, run.reader.queues.deliveries.email]) {
        const left = (await queue.getActive()).map((job) => job.id).filter((id) => !lapsed.has(String(id)));
        expect(left).toEqual([]);
      }
    }

    // 2. Events keep arriving with no worker running; then workers come back while the SMTP
    // server stops answering mid-message, and get SIGTERM with sends stuck in flight: they give
    // up on them at the deadline, exit 0, and leave them for the next worker.
    for (const round of rounds.slice(half, half + 1)) await sendDirect(run, round);
    smtp.holding = true;
    workers = [run.startWorker(), run.startWorker()];
    await workersReady(run, 2);
    while (smtp.held < 5) await sleep(20);
    const stuck = await terminate(workers);
    for (const exit of stuck) {
      expect(exit).toMatchObject({ code: 0, signal: null });
      expect(exit.ms).toBeLessThan(DEADLINE_MS + EXIT_MARGIN_MS);
      expect(exit.ms).toBeGreaterThanOrEqual(DEADLINE_MS - 100);
    }
    smtp.holding = false;

    // 3. One worker finishes the run: the rest of the events, the sends handed back.
    run.startWorker();
    for (const round of rounds.slice(half + 1)) await sendDirect(run, round);
    const outcome = await verifyCounterRun(run, smtp, ids, 150_000);
    // The sends held at the server were never accepted, so none went out twice.
    expect(outcome.duplicates).toBe(0);
    console.info(
      `sigterm: ${ids.length} customers; busy workers exited in ${busy.map((e) => e.ms).join(', ')} ms, ` +
        `workers with ${smtp.held} sends stuck in ${stuck.map((e) => e.ms).join(', ')} ms; ${outcome.resent} sends resumed`,
    );
  }, 240_000);
});
