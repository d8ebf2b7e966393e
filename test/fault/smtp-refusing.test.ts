import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEST_REDIS_URL, testRedis } from '../support/redis.js';
import { counterRounds, customerIds, sendDirect, verifyCounterRun } from './support/counter-customers.js';
import { FAULT_CUSTOMERS, faultRun, sleep, type FaultRun } from './support/fault-run.js';
import { startFaultSmtp, type FaultSmtp } from './support/fault-smtp.js';

const REFUSE_MS = 30_000;

describe('the SMTP server refusing for 30 seconds (4xx), then accepting', () => {
  const ctx = testRedis();
  let smtp: FaultSmtp;
  let run: FaultRun;

  beforeAll(async () => {
    smtp = await startFaultSmtp();
    run = faultRun({ redisUrl: TEST_REDIS_URL, prefix: ctx.prefix, smtp });
  });
  afterAll(async () => {
    await run.close();
    await smtp.close();
    await ctx.cleanup();
  });

  it('delivers every email once the server accepts again, none lost, none twice', async () => {
    const ids = customerIds('smtp', FAULT_CUSTOMERS);
    // 421 to every new connection and 451 to every message for 30 s: nothing can get through.
    smtp.refuseFor(REFUSE_MS);
    const refusalEnds = Date.now() + REFUSE_MS;
    run.startWorker();
    run.startWorker();
    for (const round of counterRounds(ids)) await sendDirect(run, round);
    await sleep(refusalEnds - Date.now() - 200);
    expect(smtp.accepted).toHaveLength(0);
    expect(smtp.refusedMessages).toBeGreaterThan(0);
    expect(smtp.refusedConnections).toBeGreaterThan(0);
    // While refused, sends wait in the queue to be retried: none has been given up.
    const inLedger = await run.reader.customer(ids[0]!);
    expect(inLedger.messages.filter((m) => m.status === 'failed')).toEqual([]);

    const outcome = await verifyCounterRun(run, smtp, ids, 120_000);
    // No process died: not even a resumed send may repeat a Message-ID.
    expect(outcome).toEqual({ duplicates: 0, resent: 0 });
    console.info(
      `smtp: ${ids.length} customers, ${smtp.refusedMessages} messages and ${smtp.refusedConnections} connections refused`,
    );
  }, 200_000);
});
