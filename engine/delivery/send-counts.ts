import type { RedisConnection } from '../redis/connection.js';
import type { Channel } from '../journey/journey-schema.js';

/**
 * Totals of recorded delivery outcomes per channel, one hash for the whole engine (field
 * `<channel>|<outcome>`), read by `/metrics`. Counted after the outcome is recorded, only when
 * this run recorded it, so a replay does not count twice; a crash in between misses one.
 */
export function sendCountsKey(prefix: string): string {
  return `${prefix}:stats:sends`;
}

export async function countSend(
  redis: RedisConnection,
  prefix: string,
  channel: Channel,
  outcome: string,
): Promise<void> {
  await redis.hincrby(sendCountsKey(prefix), `${channel}|${outcome}`, 1);
}
