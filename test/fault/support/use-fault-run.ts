import { afterAll, beforeAll } from 'vitest';
import { TEST_REDIS_URL, testRedis } from '../../support/redis.js';
import { faultRun, type FaultRun } from './fault-run.js';
import { startFaultSmtp, type FaultSmtp } from './fault-smtp.js';

/**
 * The set-up most fault cases share, registered on the enclosing `describe`: a switchable SMTP
 * server and a fault run on the test Redis under a private prefix, both closed and cleaned up
 * afterwards. Read `smtp` and `run` inside tests (they exist once `beforeAll` has run).
 */
export function useFaultRun(options: { queueShards?: number } = {}): {
  readonly smtp: FaultSmtp;
  readonly run: FaultRun;
} {
  const ctx = testRedis();
  let smtp: FaultSmtp | undefined;
  let run: FaultRun | undefined;
  beforeAll(async () => {
    smtp = await startFaultSmtp();
    run = faultRun({ redisUrl: TEST_REDIS_URL, prefix: ctx.prefix, smtp, ...options });
  });
  afterAll(async () => {
    await run?.close();
    await smtp?.close();
    await ctx.cleanup();
  });
  const started = <T>(value: T | undefined): T => {
    if (value === undefined) throw new Error('useFaultRun: read smtp and run inside a test, after beforeAll');
    return value;
  };
  return {
    get smtp() {
      return started(smtp);
    },
    get run() {
      return started(run);
    },
  };
}
