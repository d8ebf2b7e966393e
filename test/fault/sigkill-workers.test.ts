import { describe, it } from 'vitest';
import { sigkillCase } from './support/sigkill-case.js';
import { useFaultRun } from './support/use-fault-run.js';

describe('worker processes killed with SIGKILL mid-run, several times, and restarted', () => {
  const fault = useFaultRun();

  it('brings every customer to the end, every event applied once and in order, no email lost or sent twice', async () => {
    await sigkillCase(fault, 'kill');
  }, 240_000);
});
