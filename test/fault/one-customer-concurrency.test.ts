import { describe, expect, it } from 'vitest';
import { postJson, sleep } from './support/fault-run.js';
import { useFaultRun } from './support/use-fault-run.js';

const EVENTS = 240;
/** Requests in flight at once. */
const PARALLEL = 24;

describe('many concurrent events for one customer', () => {
  const fault = useFaultRun();

  it('are applied one at a time, each exactly once, in the order they were accepted', async () => {
    const { url } = await fault.run.startApi();
    // Two worker processes: the drain jobs of one customer race each other across processes.
    fault.run.startWorker();
    fault.run.startWorker();
    expect((await postJson(`${url}/v1/track`, { userId: 'solo', event: 'Open' })).status).toBe(200);

    const sentAt = new Map<number, number>();
    const acceptedAt = new Map<number, number>();
    let next = 1;
    await Promise.all(
      Array.from({ length: PARALLEL }, async () => {
        while (next <= EVENTS) {
          const n = next++;
          sentAt.set(n, performance.now());
          const response = await postJson(`${url}/v1/track`, {
            userId: 'solo',
            event: 'Item',
            properties: { n },
            messageId: `solo-${n}`,
          });
          expect(response.status).toBe(200);
          acceptedAt.set(n, performance.now());
        }
      }),
    );

    let seen: number[] = [];
    const deadline = Date.now() + 60_000;
    while (Date.now() < deadline) {
      const customer = await fault.run.reader.customer('solo');
      const data = customer.instances[0]?.context.data as { seen?: number[] } | undefined;
      seen = data?.seen ?? [];
      if (seen.length >= EVENTS && customer.pendingEvents === 0) break;
      await sleep(100);
    }
    const customer = await fault.run.reader.customer('solo');

    // Each exactly once: a lost update (two drainers at once) or a repeat would show here.
    expect([...seen].sort((a, b) => a - b)).toEqual(Array.from({ length: EVENTS }, (_, i) => i + 1));
    expect(customer.deadLetters).toEqual([]);
    // In acceptance order, as far as the client can know it: an event accepted before another
    // was even sent is applied before it.
    const position = new Map(seen.map((n, i) => [n, i]));
    const inversions: string[] = [];
    for (const [a, doneA] of acceptedAt)
      for (const [b, sentB] of sentAt)
        if (doneA < sentB && position.get(a)! > position.get(b)!) inversions.push(`${a} before ${b}`);
    expect(inversions).toEqual([]);
    // And exactly the order Redis accepted them: the customer's recent events (the last 100,
    // newest first) are the arrival order.
    const arrived = customer.recentEvents
      .flatMap((e) => (e.kind === 'track' && e.name === 'Item' ? [Number(e.properties.n)] : []))
      .reverse();
    expect(arrived.length).toBe(100);
    expect(seen.slice(-arrived.length)).toEqual(arrived);
  }, 120_000);
});
