// Secrets made up in development are kept in Redis, one set per key prefix: every process of the
// prefix (the API behind a load balancer, the workers, on any machine, after a restart) then signs
// and checks links with the same unsubscribe secret and accepts the same API key.
import { RedisUnavailableError, type RedisConnection } from '../engine/index.js';

/**
 * The hash of made-up secrets, field = variable name. One key, so one Cluster slot; under
 * `<prefix>:`, so engineKeyPatterns (and every clean-up by it) covers it.
 */
export function devSecretsKey(prefix: string): string {
  return `${prefix}:dev-secrets`;
}

/** How long start-up waits for Redis to answer, as the API's own connection does. */
const ANSWER_WITHIN_MS = 10_000;

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
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () =>
        reject(
          new RedisUnavailableError(
            `Redis did not answer within ${ANSWER_WITHIN_MS / 1000} s when reading the development secrets at ${key}. ` +
              'To fix: check REDIS_URL (or REDIS_CLUSTER_NODES).',
          ),
        ),
      ANSWER_WITHIN_MS,
    );
  });
  const results = await Promise.race([multi.exec(), timeout]).finally(() => clearTimeout(timer));
  const [error, kept] = results?.at(-1) ?? [new Error('the MULTI was discarded'), undefined];
  if (error) throw error;
  // Never null: each field was set, if it was not already, in the same MULTI.
  const values = kept as string[];
  return Object.fromEntries(names.map((name, i) => [name, values[i]!]));
}
