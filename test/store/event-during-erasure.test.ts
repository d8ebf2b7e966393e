import { describe, expect, it } from 'vitest';
import { keysSharingTag } from '../../engine/redis/scan-keys.js';
import { engineEachTest } from '../support/engine.js';

type Unlink = (...keys: string[]) => Promise<number>;

describe('an event that arrives while its customer is being erased', () => {
  const h = engineEachTest();

  it('leaves none of its traits under the erased customer, also when it came after their keys were deleted', async () => {
    const { engine } = h;
    await engine.identify({ userId: 'ada', traits: { email: 'ada@example.com' } });
    await engine.track({ userId: 'ada', event: 'Signed Up' });
    await engine.settleIngest();

    // The identify lands after the erasure deleted the customer's other keys (their recent
    // events among them) and before it deletes the state with the keys written without the lease.
    const redis = engine.store.redis as unknown as { unlink: Unlink };
    const unlink = redis.unlink.bind(redis);
    let calls = 0;
    redis.unlink = async (...keys) => {
      const deleted = await unlink(...keys);
      if (calls++ === 0) await engine.identify({ userId: 'ada', traits: { email: 'ada@new.example' } });
      return deleted;
    };
    try {
      await engine.erase('ada');
    } finally {
      redis.unlink = unlink;
    }
    await engine.settleIngest();
    // The identify came after the first deletion; the state went after it (with an UNLINK of its
    // own on a Redis Cluster, in the script that moves the counts on a single Redis).
    expect(calls).toBeGreaterThan(0);
    // The export answers 404 for a customer with no state: what is left could not be seen or erased.
    const left = await keysSharingTag(engine.store.redis, engine.store.keys('ada').state);
    expect(left.filter((key) => !key.includes(':seen:'))).toEqual([]);
  });
});
