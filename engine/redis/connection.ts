import { Cluster, Redis, type RedisOptions } from 'ioredis';
import { z } from 'zod';

/**
 * What the engine talks to: one Redis, or a Redis Cluster. Every key of one customer shares a
 * hash tag, BullMQ's keys share `{<prefix>}`, and no script or transaction spans two slots, so
 * the engine runs unchanged on either.
 */
export type RedisConnection = Redis | Cluster;

/** Where Redis is: a `redis://` URL, or the seed nodes of a Cluster. */
export type RedisTarget =
  | { kind: 'single'; url: string }
  | {
      kind: 'cluster';
      nodes: ReadonlyArray<{ host: string; port: number }>;
      username?: string;
      password?: string;
      tls: boolean;
    };

/**
 * `url` with its user name and password masked, for logs, banners and error messages. Everything
 * between `//` (or the start, for `user:password@host:port`) and the last `@` goes: a password may
 * hold a bare `@` (WHATWG URLs, which ioredis reads, and nodemailer's parser take the host after
 * the last one), and masking a little too much of a URL that holds an `@` elsewhere is better
 * than printing part of a password.
 *
 * @example
 * withoutCredentials('redis://:p@ss@10.0.0.1:6379/2'); // 'redis://***@10.0.0.1:6379/2'
 */
export function withoutCredentials(url: string): string {
  return url.replace(/^([A-Za-z][A-Za-z0-9+.-]*:\/\/)?.*@/s, '$1***@');
}

/**
 * `REDIS_URL`: a URL ioredis reads as it is meant, checked at start-up so a bad one names the
 * variable (ioredis would throw a bare "Invalid URL" or "URI malformed", or send `SELECT NaN`).
 * The messages never repeat the URL, which may hold a password.
 */
export const RedisUrl = z
  .string()
  .regex(/^rediss?:\/\//, 'a redis:// or rediss:// URL')
  .superRefine((value, ctx) => {
    let url: URL;
    try {
      url = new URL(value);
      decodeURIComponent(url.username);
      decodeURIComponent(url.password);
    } catch {
      ctx.addIssue({
        code: 'custom',
        message:
          'not a URL ioredis can read: percent-encode / ? # and % in the user name or password ' +
          '(%2F %3F %23 %25), and give the port as a number, such as redis://:pass%2Fword@10.0.0.1:6379',
      });
      return;
    }
    if (!url.hostname)
      ctx.addIssue({ code: 'custom', message: 'names no host, such as redis://10.0.0.1:6379' });
    if (!/^(\/\d*)?$/.test(url.pathname))
      ctx.addIssue({
        code: 'custom',
        message: 'the path is the database number, such as /0 (or none, for database 0)',
      });
  });

const ClusterNode = z
  .string()
  .trim()
  .transform((entry, ctx) => {
    const withScheme = /^rediss?:\/\//.test(entry) ? entry : `redis://${entry}`;
    const shown = `"${withoutCredentials(entry)}"`;
    let url: URL;
    let username: string;
    let password: string;
    try {
      url = new URL(withScheme);
      username = decodeURIComponent(url.username);
      password = decodeURIComponent(url.password);
    } catch {
      ctx.addIssue({
        code: 'custom',
        message: `${shown} is not host:port (percent-encode / ? # and % in a user name or password)`,
      });
      return z.NEVER;
    }
    if (!url.hostname || !url.port) {
      ctx.addIssue({ code: 'custom', message: `${shown} is not host:port (a port is required)` });
      return z.NEVER;
    }
    if (url.pathname !== '' && url.pathname !== '/') {
      ctx.addIssue({
        code: 'custom',
        message: `${shown} is not host:port (no path: a Redis Cluster has database 0 alone)`,
      });
      return z.NEVER;
    }
    return {
      host: url.hostname.replace(/^\[|\]$/g, ''),
      port: Number(url.port),
      tls: url.protocol === 'rediss:',
      username: username || undefined,
      password: password || undefined,
    };
  });

/**
 * `REDIS_CLUSTER_NODES`: some of a Cluster's nodes, comma-separated, each `host:port` or
 * `redis[s]://[user:password@]host:port`; the rest of the cluster is discovered from them.
 */
export const RedisClusterNodes = z
  .string()
  .transform((value) =>
    value
      .split(',')
      .map((part) => part.trim())
      .filter(Boolean),
  )
  .pipe(z.array(ClusterNode).min(1, 'at least one host:port'))
  .transform((nodes): RedisTarget => {
    const withAuth = nodes.find((node) => node.password !== undefined || node.username !== undefined);
    return {
      kind: 'cluster',
      nodes: nodes.map(({ host, port }) => ({ host, port })),
      ...(withAuth?.username ? { username: withAuth.username } : {}),
      ...(withAuth?.password ? { password: withAuth.password } : {}),
      tls: nodes.some((node) => node.tls),
    };
  });
export type RedisClusterNodes = z.infer<typeof RedisClusterNodes>;

/**
 * Connects to `target` with `options` (per node, for a Cluster).
 *
 * @example
 * const redis = connectRedis({ kind: 'single', url: 'redis://127.0.0.1:6379' }, { maxRetriesPerRequest: null });
 */
export function connectRedis(target: RedisTarget, options: RedisOptions = {}): RedisConnection {
  if (target.kind === 'single') return new Redis(target.url, options);
  // Never auto-pipelined on a Cluster: ioredis (5.11) groups an EVALSHA by its first argument, the
  // script's SHA, not by its key, so the engine's scripts land in pipelines that span slots; the
  // pipeline fails, and its callback then throws an uncaught TypeError ("results[i] is not
  // iterable", redis/ioredis#2109, #1931). Each node connection is left unpipelined too.
  const redisOptions: RedisOptions = {
    ...options,
    enableAutoPipelining: false,
    ...(target.username ? { username: target.username } : {}),
    ...(target.password ? { password: target.password } : {}),
    ...(target.tls ? { tls: {} } : {}),
  };
  return new Cluster([...target.nodes], {
    redisOptions,
    // Without an offline queue a command sent before the slots are known fails at once.
    enableOfflineQueue: options.enableOfflineQueue ?? true,
  });
}

/** For logs and banners: the URL without its password, or the cluster's seed nodes. */
export function describeRedisTarget(target: RedisTarget): string {
  if (target.kind === 'single') return withoutCredentials(target.url);
  return `cluster ${target.nodes.map((node) => `${node.host}:${node.port}`).join(',')}`;
}

export function isCluster(redis: RedisConnection): redis is Cluster {
  return redis instanceof Cluster;
}

/** The nodes keys are enumerated on: every master of a Cluster, or the one Redis. */
export function masterNodes(redis: RedisConnection): Redis[] {
  return isCluster(redis) ? redis.nodes('master') : [redis];
}
