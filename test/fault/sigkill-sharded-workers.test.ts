import { describe, it } from 'vitest';
import { sigkillCase } from './support/sigkill-case.js';
import { useFaultRun } from './support/use-fault-run.js';

describe('worker processes killed with SIGKILL mid-run, with the queues in two shards', () => {
  const fault = useFaultRun({ queueShards: 2 });

  it("takes a killed worker's jobs over in every shard: every customer at the end, no email lost or sent twice", async () => {
    await sigkillCase(fault, 'kill-sharded');
  }, 240_000);
});
