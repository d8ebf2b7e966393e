import { expect } from 'vitest';
import type { ChorusProcess } from './chorus-process.js';
import { counterRounds, customerIds, sendDirect, verifyCounterRun } from './counter-customers.js';
import { FAULT_CUSTOMERS, jobsOfRun, sleep } from './fault-run.js';
import type { useFaultRun } from './use-fault-run.js';

const KILLS = 4;

/**
 * Two worker processes share the load while one of them is killed with SIGKILL mid-job and
 * replaced, again and again; then every customer must have reached the end, every event applied
 * once and in order, and no email be lost or sent twice.
 */
export async function sigkillCase(fault: ReturnType<typeof useFaultRun>, label: string): Promise<void> {
  const ids = customerIds(label, FAULT_CUSTOMERS);
  const steady = fault.run.startWorker();
  let victim: ChorusProcess = fault.run.startWorker();
  const startedAt = Date.now();
  let kills = 0;
  let sending = true;
  const killer = (async () => {
    while (kills < KILLS && sending) {
      await sleep(1500);
      // Only while it holds jobs, so the kill lands mid-job.
      if ((await jobsOfRun(fault.run, 'active')) === 0 && Date.now() - startedAt < 60_000) continue;
      victim.kill('SIGKILL');
      await victim.exited;
      kills++;
      victim = fault.run.startWorker();
    }
  })();
  try {
    for (const round of counterRounds(ids)) await sendDirect(fault.run, round);
  } catch (error) {
    // The killer must not go on starting workers once the test has failed and its run is closed.
    sending = false;
    await killer.catch(() => undefined);
    throw error;
  }
  await killer;

  const outcome = await verifyCounterRun(fault.run, fault.smtp, ids, 150_000);
  expect(kills).toBe(KILLS);
  expect(steady.child.exitCode).toBeNull();
  // A crash between the server's answer and the ledger write resends under the same Message-ID.
  expect(outcome.duplicates).toBeLessThanOrEqual(outcome.resent);
  console.info(
    `${label}: ${ids.length} customers, ${kills} kills, ${outcome.resent} sends resumed, ${fault.smtp.connectionErrors} connections reset`,
  );
}
