import type { RedisConnection } from '../redis/connection.js';
import { scanEach, scanKeys, unlinkKeys } from '../redis/scan-keys.js';
import type { InstanceRecord } from '../runtime/instance-record.js';
import { instanceIdOfField, prunedTallyKey } from './customer-keys.js';
import {
  addDeltas,
  countDeltas,
  erasedCountsKey,
  journeyCountsKey,
  tallyDeltas,
  type CountDeltas,
} from './journey-counts.js';

/**
 * Rebuilds every journey's counts from the customers themselves (a full SCAN of every master):
 * their instances, plus the tally each keeps of the finished instances it no longer does.
 * For after a crash left a count off, or after changing the counting; counts written while it
 * runs may be lost, so run it when the engine is quiet.
 */
export async function recountJourneys(redis: RedisConnection, prefix: string): Promise<number> {
  const stateKey = new RegExp(`^${prefix.replace(/[-]/g, '\\-')}:c:\\{[^}]*\\}$`);
  const totals: CountDeltas = new Map();
  const seen = new Set<string>();
  let customers = 0;
  await scanEach(redis, `${prefix}:c:*`, async (keys) => {
    for (const key of keys.filter((k) => stateKey.test(k) && !seen.has(k))) {
      // SCAN may return a key twice (a rehash, or a slot moving between masters meanwhile).
      seen.add(key);
      const [fields, pruned] = await Promise.all([redis.hgetall(key), redis.hgetall(prunedTallyKey(key))]);
      const instances = Object.entries(fields)
        .filter(([name]) => instanceIdOfField(name) !== undefined)
        .map(([, value]) => JSON.parse(value) as InstanceRecord);
      if (instances.length === 0 && Object.keys(pruned).length === 0) continue;
      customers += 1;
      addDeltas(totals, countDeltas(new Map(), instances));
      addDeltas(totals, tallyDeltas(pruned));
    }
  });
  // Erased customers are gone from the scan, but the live counts keep what they counted for.
  const erasedPrefix = erasedCountsKey(prefix, '');
  for (const key of await scanKeys(redis, `${erasedPrefix}*`)) {
    const fields = Object.entries(await redis.hgetall(key)).map(([name, by]) => [name, Number(by)] as const);
    addDeltas(totals, new Map([[key.slice(erasedPrefix.length), new Map(fields)]]));
  }
  // Each journey's counts are one hash, replaced in one MULTI: a single key, so a single slot.
  const existing = await scanKeys(redis, `${prefix}:journey-counts:*`);
  const rewritten = new Set<string>();
  for (const [journeyId, fields] of totals) {
    const key = journeyCountsKey(prefix, journeyId);
    rewritten.add(key);
    const nonZero = [...fields].filter(([, n]) => n !== 0).flatMap(([name, n]) => [name, String(n)]);
    const multi = redis.multi().del(key);
    if (nonZero.length > 0) multi.hset(key, ...nonZero);
    await multi.exec();
  }
  await unlinkKeys(
    redis,
    existing.filter((key) => !rewritten.has(key)),
  );
  return customers;
}
