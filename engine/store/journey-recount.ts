import type { Redis } from 'ioredis';
import { scanKeys } from '../redis/scan-keys.js';
import type { InstanceRecord } from '../runtime/instance-record.js';
import { countDeltas, journeyCountsKey } from './journey-counts.js';

/**
 * Rebuilds every journey's counts from the customers themselves (a full SCAN). For after a crash
 * left a count off, or after changing the counting; counts written while it runs may be lost, so
 * run it when the engine is quiet.
 */
export async function recountJourneys(redis: Redis, prefix: string): Promise<number> {
  const stateKey = new RegExp(`^${prefix.replace(/[-]/g, '\\-')}:c:\\{[^}]*\\}$`);
  const totals = new Map<string, Map<string, number>>();
  let customers = 0;
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:c:*`, 'COUNT', 1000);
    cursor = next;
    for (const key of keys.filter((k) => stateKey.test(k))) {
      const fields = await redis.hgetall(key);
      const instances = Object.entries(fields)
        .filter(([name]) => name.startsWith('i:'))
        .map(([, value]) => JSON.parse(value) as InstanceRecord);
      if (instances.length === 0) continue;
      customers += 1;
      for (const [journeyId, deltas] of countDeltas(new Map(), instances)) {
        const sum = totals.get(journeyId) ?? new Map<string, number>();
        totals.set(journeyId, sum);
        for (const [name, by] of deltas) sum.set(name, (sum.get(name) ?? 0) + by);
      }
    }
  } while (cursor !== '0');
  const existing = await scanKeys(redis, `${prefix}:journey-counts:*`);
  const multi = redis.multi();
  for (const key of existing) multi.del(key);
  for (const [journeyId, fields] of totals) {
    const nonZero = [...fields].filter(([, n]) => n !== 0).flatMap(([name, n]) => [name, String(n)]);
    if (nonZero.length > 0) multi.hset(journeyCountsKey(prefix, journeyId), ...nonZero);
  }
  await multi.exec();
  return customers;
}
