import { describe, expect, it } from 'vitest';
import { counterRounds, customerIds, sendDirect, verifyCounterRun } from './support/counter-customers.js';
import { FAULT_CUSTOMERS, sleep } from './support/fault-run.js';
import { useFaultRun } from './support/use-fault-run.js';
import type { ChorusProcess } from './support/chorus-process.js';

const KILLS = 4;

describe('worker processes killed with SIGKILL mid-run, several times, and restarted', () => {
  const fault = useFaultRun();

  it('brings every customer to the end, every event applied once and in order, no email lost or sent twice', async () => {
    const ids = customerIds('kill', FAULT_CUSTOMERS);
    // Two workers share the load; one of them is killed and replaced again and again.
    const steady = fault.run.startWorker();
    let victim: ChorusProcess = fault.run.startWorker();
    const startedAt = Date.now();
    let kills = 0;
    const killer = (async () => {
      while (kills < KILLS) {
        await sleep(1500);
        // Only while it holds jobs, so the kill lands mid-job.
        const active = await fault.run.reader.queues.journeys.getActiveCount();
        const sending = await fault.run.reader.queues.deliveries.email.getActiveCount();
        if (active + sending === 0 && Date.now() - startedAt < 60_000) continue;
        victim.kill('SIGKILL');
        await victim.exited;
        kills++;
        victim = fault.run.startWorker();
      }
    })();
    for (const round of counterRounds(ids)) await sendDirect(fault.run, round);
    await killer;

    const outcome = await verifyCounterRun(fault.run, fault.smtp, ids, 150_000);
    expect(kills).toBe(KILLS);
    expect(steady.child.exitCode).toBeNull();
    // A crash between the server's answer and the ledger write resends under the same Message-ID.
    expect(outcome.duplicates).toBeLessThanOrEqual(outcome.resent);
    console.info(
      `sigkill: ${ids.length} customers, ${kills} kills, ${outcome.resent} sends resumed, ${fault.smtp.connectionErrors} connections reset`,
    );
  }, 240_000);
});
