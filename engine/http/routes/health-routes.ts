import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { RedisConnection } from '../../redis/connection.js';
import { evictionPolicyProblem } from '../../redis/eviction-policy.js';
import { readOnlyReplicaProblem } from '../../redis/redis-ready.js';
import { z } from 'zod';

const Health = z.object({ status: z.enum(['ok', 'unavailable']), reason: z.string().optional() });

/**
 * `/healthz`: the process is up. `/readyz`: Redis answers, takes writes (is no read-only replica,
 * as a primary a failover demoted becomes) and will not evict keys; with any
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
        summary: 'Redis answers, is no read-only replica, and its maxmemory-policy is noeviction',
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
    const replica = await readOnlyReplicaProblem(redis);
    return replica === undefined ? await evictionPolicyProblem(redis) : `Redis ${replica}`;
  } catch (error) {
    return `Redis did not answer: ${(error as Error).message}`;
  }
}
