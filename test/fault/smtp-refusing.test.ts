import { describe, expect, it } from 'vitest';
import { counterRounds, customerIds, sendDirect, verifyCounterRun } from './support/counter-customers.js';
import { FAULT_CUSTOMERS, sleep } from './support/fault-run.js';
import { useFaultRun } from './support/use-fault-run.js';

const REFUSE_MS = 30_000;

describe('the SMTP server refusing for 30 seconds (4xx), then accepting', () => {
  const fault = useFaultRun();

  it('delivers every email once the server accepts again, none lost, none twice', async () => {
    const ids = customerIds('smtp', FAULT_CUSTOMERS);
    // 421 to every new connection and 451 to every message for 30 s: nothing can get through.
    fault.smtp.refuseFor(REFUSE_MS);
    const refusalEnds = Date.now() + REFUSE_MS;
    fault.run.startWorker();
    fault.run.startWorker();
    for (const round of counterRounds(ids)) await sendDirect(fault.run, round);
    await sleep(refusalEnds - Date.now() - 200);
    expect(fault.smtp.accepted).toHaveLength(0);
    expect(fault.smtp.refusedMessages).toBeGreaterThan(0);
    expect(fault.smtp.refusedConnections).toBeGreaterThan(0);
    // While refused, sends wait in the queue to be retried: none has been given up.
    const inLedger = await fault.run.reader.customer(ids[0]!);
    expect(inLedger.messages.filter((m) => m.status === 'failed')).toEqual([]);

    const outcome = await verifyCounterRun(fault.run, fault.smtp, ids, 120_000);
    // No process died: not even a resumed send may repeat a Message-ID.
    expect(outcome).toEqual({ duplicates: 0, resent: 0 });
    console.info(
      `smtp: ${ids.length} customers, ${fault.smtp.refusedMessages} messages and ${fault.smtp.refusedConnections} connections refused`,
    );
  }, 200_000);
});
