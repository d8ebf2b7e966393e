import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { masterNodes, type RedisConnection } from '../../redis/connection.js';
import { z } from 'zod';

const Health = z.object({ status: z.enum(['ok', 'unavailable']), reason: z.string().optional() });

/**
 * `/healthz`: the process is up. `/readyz`: Redis answers and will not evict keys; with any
 * other `maxmemory-policy` Redis may silently drop queued jobs and customer state under memory
 * pressure, so the engine is not ready to take traffic.
 */
export const healthRoutes: FastifyPluginAsyncZod<{ redis: RedisConnection }> = async (app, { redis }) => {
  app.get(
    '/healthz',
    { schema: { tags: ['operate'], summary: 'The process is up', security: [], response: { 200: Health } } },
    async () => ({ status: 'ok' as const }),
  );

  app.get(
    '/readyz',
    {
      schema: {
        tags: ['operate'],
        summary: 'Redis answers and its maxmemory-policy is noeviction',
        security: [],
        response: { 200: Health, 503: Health },
      },
    },
    async (_request, reply) => {
      const reason = await notReadyReason(redis);
      return reason === undefined
        ? { status: 'ok' as const }
        : reply.code(503).send({ status: 'unavailable' as const, reason });
    },
  );
};

async function notReadyReason(redis: RedisConnection): Promise<string | undefined> {
  if (redis.status !== 'ready') return `Redis is not connected (${redis.status})`;
  try {
    // INFO works where CONFIG GET is disabled, as on most managed Redis services. On a Cluster
    // every master holds keys, so every master must refuse to evict.
    for (const node of masterNodes(redis)) {
      const info = await node.info('memory');
      const policy = /^maxmemory_policy:(\S+)/m.exec(info)?.[1];
      if (policy !== 'noeviction')
        return `Redis maxmemory-policy is ${policy ?? 'unknown'}${node === redis ? '' : ` on ${node.options.host ?? ''}:${node.options.port ?? ''}`}; it must be noeviction, or Redis may evict jobs and customer state. To fix: CONFIG SET maxmemory-policy noeviction (and in redis.conf)`;
    }
    return undefined;
  } catch (error) {
    return `Redis did not answer: ${(error as Error).message}`;
  }
}
