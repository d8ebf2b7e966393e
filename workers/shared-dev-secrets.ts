// Secrets made up in development are kept in Redis, one set per key prefix: every process of the
// prefix (the API behind a load balancer, the workers, on any machine, after a restart) then signs
// and checks links with the same unsubscribe secret and accepts the same API key.
import type { RedisConnection } from '../engine/index.js';

/**
 * The hash of made-up secrets, field = variable name. One key, so one Cluster slot; under
 * `<prefix>:`, so engineKeyPatterns (and every clean-up by it) covers it.
 */
export function devSecretsKey(prefix: string): string {
  return `${prefix}:dev-secrets`;
}

/**
 * Offers a fresh value for each name and returns the values kept for the prefix: the first
 * process to offer one keeps it (HSETNX), and the read back in the same MULTI gives every process
 * the kept value, so two starting at once agree.
 *
 * @example
 * const kept = await sharedDevSecrets(redis, 'chorus', { UNSUBSCRIBE_SECRET: randomBytes(24).toString('base64url') });
 */
export async function sharedDevSecrets(
  redis: RedisConnection,
  prefix: string,
  offered: Readonly<Record<string, string>>,
): Promise<Record<string, string>> {
  const names = Object.keys(offered);
  if (names.length === 0) return {};
  const key = devSecretsKey(prefix);
  const multi = redis.multi();
  for (const name of names) multi.hsetnx(key, name, offered[name]!);
  multi.hmget(key, ...names);
  // Start-up has waited for Redis to answer (redisReady) before it reads these.
  const results = await multi.exec();
  const [error, kept] = results?.at(-1) ?? [new Error('the MULTI was discarded'), undefined];
  if (error) throw error;
  // Never null: each field was set, if it was not already, in the same MULTI.
  const values = kept as string[];
  return Object.fromEntries(names.map((name, i) => [name, values[i]!]));
}
