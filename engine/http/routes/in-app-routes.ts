import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { dismissInAppMessage, markInAppRead, readInAppInbox } from '../../channels/in-app-adapter.js';
import type { Clock } from '../../clock.js';
import type { Engine } from '../../engine.js';
import { MAX_OP_ID_LENGTH } from '../../runtime/ids.js';
import { NotFoundError } from '../http-errors.js';

const InAppMessage = z.object({
  id: z.string(),
  title: z.string(),
  body: z.string(),
  cta: z.object({ label: z.string(), url: z.string() }),
  journey: z.string(),
  message: z.string(),
  createdAt: z.number().describe('epoch ms'),
  expiresAt: z
    .number()
    .nullable()
    .describe('epoch ms, when it leaves the inbox; null for a message stored before messages expired'),
  readAt: z.number().nullable().describe('epoch ms, or null while unread'),
});

/** The in-app inbox, for an app's backend to show a customer their messages and mark them read. */
export const inAppRoutes: FastifyPluginAsyncZod<{ engine: Engine; clock: Clock }> = async (app, options) => {
  const { engine, clock } = options;
  app.get(
    '/v1/customers/:userId/in-app',
    {
      schema: {
        tags: ['customers'],
        summary: "A customer's in-app messages that have not expired, newest first",
        params: z.object({ userId: z.string().min(1).max(256) }),
        querystring: z.object({ limit: z.coerce.number().int().min(1).max(1000).default(50) }),
        response: { 200: z.object({ messages: z.array(InAppMessage) }) },
      },
    },
    async (request) => ({
      messages: await readInAppInbox(
        engine.store.redis,
        engine.prefix,
        request.params.userId,
        request.query.limit,
        clock.now(),
      ),
    }),
  );

  app.post(
    '/v1/customers/:userId/in-app/:id/read',
    {
      schema: {
        tags: ['customers'],
        summary: 'Mark one in-app message read',
        params: z.object({ userId: z.string().min(1).max(256), id: z.string().min(1).max(MAX_OP_ID_LENGTH) }),
        response: { 200: z.object({ read: z.literal(true) }) },
      },
    },
    async (request) => {
      const { userId, id } = request.params;
      if (!(await markInAppRead(engine.store.redis, engine.prefix, userId, id, clock.now())))
        throw new NotFoundError(`Customer "${userId}" has no in-app message "${id}".`);
      return { read: true as const };
    },
  );

  app.post(
    '/v1/customers/:userId/in-app/:id/dismiss',
    {
      schema: {
        tags: ['customers'],
        summary: 'Dismiss one in-app message: the inbox no longer lists it',
        params: z.object({ userId: z.string().min(1).max(256), id: z.string().min(1).max(MAX_OP_ID_LENGTH) }),
        response: { 200: z.object({ dismissed: z.literal(true) }) },
      },
    },
    async (request) => {
      const { userId, id } = request.params;
      if (!(await dismissInAppMessage(engine.store.redis, engine.prefix, userId, id, clock.now())))
        throw new NotFoundError(`Customer "${userId}" has no in-app message "${id}" to dismiss.`);
      return { dismissed: true as const };
    },
  );
};
