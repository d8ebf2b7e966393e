import { isCluster, type RedisConnection } from './connection.js';
import { RedisUnavailableError } from './errors.js';

/** How long a process waits at start-up for its Redis to answer before it gives up. */
export const REDIS_ANSWER_WITHIN_MS = 10_000;

export interface RedisReadyOptions {
  /** How long to wait for the connection; unset waits as long as Redis takes to come up. */
  timeoutMs?: number;
  /** Where the connection is, for the message (never the password): `describeRedisTarget`. */
  where: string;
}

/**
 * Resolves once `redis` is ready to be written. A refused user name or password rejects at once:
 * ioredis would otherwise reconnect and be refused again forever, and a process started with a
 * wrong password ran on doing nothing, logging an error a few times a second. So does a read-only
 * replica, which answers every write READONLY.
 *
 * @throws {RedisUnavailableError} when Redis refuses the credentials, has no database of the
 * number asked for, is a read-only replica, or does not answer within `timeoutMs`.
 * @example
 * await redisReady(redis, { where: describeRedisTarget(target), timeoutMs: 10_000 });
 */
export async function redisReady(redis: RedisConnection, options: RedisReadyOptions): Promise<void> {
  if (redis.status !== 'ready') await connected(redis, options);
  await refuseMissingDatabase(redis, options.where);
  await refuseReadOnlyReplica(redis, options.where);
}

/**
 * A REDIS_URL whose path names a database the server does not have (`/16` with the default
 * `databases 16`). ioredis reports the refused SELECT as an error event and carries on in
 * database 0, where the engine would then read and write beside whatever else lives there.
 */
async function refuseMissingDatabase(redis: RedisConnection, where: string): Promise<void> {
  if (isCluster(redis)) return;
  const db = Number(redis.options.db ?? 0);
  if (db === 0) return;
  try {
    await redis.select(db);
  } catch (error) {
    const databases = await redis
      .config('GET', 'databases')
      .then((reply) => Number((reply as string[])[1]))
      .catch(() => Number.NaN);
    const range =
      Number.isInteger(databases) && databases > 0 ? `from 0 to ${databases - 1}` : 'the server has';
    throw new RedisUnavailableError(
      `Redis at ${where} has no database ${db} (${(error as Error).message}). ` +
        `To fix: name one ${range} in the path of REDIS_URL (/0, or no path, for the first), ` +
        "or raise the server's databases setting.",
      { cause: error },
    );
  }
}

function connected(redis: RedisConnection, options: RedisReadyOptions): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    let timer: NodeJS.Timeout | undefined;
    const done = (error?: RedisUnavailableError) => {
      clearTimeout(timer);
      redis.off('ready', onReady);
      redis.off('error', onError);
      if (error) reject(error);
      else resolve();
    };
    const onReady = () => done();
    const onError = (err: unknown) => {
      const refusal = credentialsRefusal(err);
      if (refusal)
        done(
          new RedisUnavailableError(
            `Redis at ${options.where} refused this process's credentials (${refusal}). ` +
              'To fix: correct the user name and password in REDIS_URL (or REDIS_CLUSTER_NODES).',
            { cause: err },
          ),
        );
    };
    redis.on('ready', onReady);
    redis.on('error', onError);
    if (options.timeoutMs !== undefined)
      timer = setTimeout(
        () =>
          done(
            new RedisUnavailableError(
              `Redis at ${options.where} did not answer within ${options.timeoutMs! / 1000} s. ` +
                'To fix: check REDIS_URL (or REDIS_CLUSTER_NODES).',
            ),
          ),
        options.timeoutMs,
      );
  });
}

/** Redis's answer when it refuses a connection's credentials, or undefined for any other error. */
function credentialsRefusal(err: unknown): string | undefined {
  // A Cluster wraps what its nodes answered in the error of its failed slots refresh.
  const errors = [err, (err as { lastNodeError?: unknown } | null)?.lastNodeError];
  for (const error of errors) {
    const message = error instanceof Error ? error.message : '';
    if (/^(NOAUTH|WRONGPASS)\b/.test(message) || /^ERR invalid (username|password)/i.test(message))
      return message;
  }
  return undefined;
}

/**
 * A REDIS_URL that names a replica (a read endpoint, or a primary since demoted). A Cluster client
 * writes to each slot's master by itself; where INFO is not allowed the check is left out.
 */
async function refuseReadOnlyReplica(redis: RedisConnection, where: string): Promise<void> {
  const problem = await readOnlyReplicaProblem(redis);
  if (problem !== undefined) throw new RedisUnavailableError(`Redis at ${where} ${problem}`);
}

/**
 * Why `redis` cannot take the engine's writes, as the end of a sentence starting "Redis", or
 * undefined when it can: it is a read-only replica (what a primary becomes once a failover demotes
 * it). Checked at start-up and by `/readyz`. A Cluster client writes to each slot's master by
 * itself; where INFO is not allowed the check is left out.
 */
export async function readOnlyReplicaProblem(redis: RedisConnection): Promise<string | undefined> {
  if (isCluster(redis)) return undefined;
  const info = await redis.info('replication').catch(() => '');
  if (!/^role:slave\b/m.test(info) || !/^slave_read_only:1\b/m.test(info)) return undefined;
  const host = /^master_host:(\S+)/m.exec(info)?.[1];
  const port = /^master_port:(\S+)/m.exec(info)?.[1];
  return (
    `is a read-only replica${host ? ` of ${host}:${port ?? ''}` : ''}, and the engine writes to Redis. ` +
    'To fix: point REDIS_URL at the primary.'
  );
}
