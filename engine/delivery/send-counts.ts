import type { Channel } from '../journey/journey-schema.js';
import type { StatsWriter } from '../store/stats-writes.js';

/**
 * Totals of recorded delivery outcomes per channel, one hash for the whole engine (field
 * `<channel>|<outcome>`), read by `/metrics`. Counted only when this run recorded the outcome,
 * so a replay does not count twice: by the recording script itself on a single Redis, right
 * after it on a Redis Cluster (where a crash in between misses one; see stats-writes.ts).
 */
export function sendCountsKey(prefix: string): string {
  return `${prefix}:stats:sends`;
}

/** Queues the count of one recorded outcome, to be written with it. */
export function queueSendCount(writer: StatsWriter, prefix: string, channel: Channel, outcome: string): void {
  writer.hincrbyAll(sendCountsKey(prefix), new Map([[`${channel}|${outcome}`, 1]]));
}
