import { masterNodes, type RedisConnection } from './connection.js';

/**
 * Why `redis` may evict keys, or undefined when it will not: with any `maxmemory-policy` but
 * `noeviction`, Redis under memory pressure silently drops queued jobs and customer state. INFO
 * works where CONFIG GET is disabled, as on most managed Redis services. On a Cluster every master
 * holds keys, so every master must refuse to evict.
 */
export async function evictionPolicyProblem(redis: RedisConnection): Promise<string | undefined> {
  for (const node of masterNodes(redis)) {
    const info = await node.info('memory');
    const policy = /^maxmemory_policy:(\S+)/m.exec(info)?.[1];
    if (policy !== 'noeviction')
      return `Redis maxmemory-policy is ${policy ?? 'unknown'}${node === redis ? '' : ` on ${node.options.host ?? ''}:${node.options.port ?? ''}`}; it must be noeviction, or Redis may evict jobs and customer state. To fix: CONFIG SET maxmemory-policy noeviction (and in redis.conf)`;
  }
  return undefined;
}

const BULLMQ_EVICTION_WARNING = /^IMPORTANT! Eviction policy is /;

/**
 * Drops BullMQ's own eviction-policy warning from `console.warn` in this process. BullMQ prints it
 * for each connection it opens, two dozen times as a process starts; call this once the process
 * has logged the problem itself (evictionPolicyProblem), with the fix.
 */
export function quietBullmqEvictionWarnings(): void {
  const warn = console.warn;
  if ((warn as { quietsEviction?: true }).quietsEviction) return;
  const quiet = (...args: unknown[]) => {
    if (typeof args[0] === 'string' && BULLMQ_EVICTION_WARNING.test(args[0])) return;
    warn.apply(console, args);
  };
  console.warn = Object.assign(quiet, { quietsEviction: true as const });
}
