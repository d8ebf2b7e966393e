import type { RedisConnection } from '../redis/connection.js';
import type { Channel } from '../journey/journey-schema.js';

/**
 * Totals of policy decisions that stopped, held or moved a send, one hash for the engine (field
 * `<channel>|<action>|<rule>`), read by `/metrics`. Rule names, not reasons, are counted: reasons
 * carry times and sources and would make a label without bound.
 */
export function policyCountsKey(prefix: string): string {
  return `${prefix}:stats:policy`;
}

export async function countDecision(
  redis: RedisConnection,
  prefix: string,
  decision: { channel: Channel; action: 'skip' | 'reroute' | 'delay'; rule: string },
): Promise<void> {
  await redis.hincrby(policyCountsKey(prefix), `${decision.channel}|${decision.action}|${decision.rule}`, 1);
}
