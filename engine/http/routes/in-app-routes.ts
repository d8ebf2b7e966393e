import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { dismissInAppMessage, markInAppRead, readInAppInbox } from '../../channels/in-app-adapter.js';
import type { Clock } from '../../clock.js';
import type { Engine } from '../../engine.js';
import { MAX_OP_ID_LENGTH } from '../../runtime/ids.js';
import { NotFoundError } from '../http-errors.js';
import type { inAppCors } from '../in-app-cors.js';

type InAppCors = ReturnType<typeof inAppCors>;

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

const INBOX = '/v1/customers/:userId/in-app';
const READ = '/v1/customers/:userId/in-app/:id/read';
const DISMISS = '/v1/customers/:userId/in-app/:id/dismiss';

/** The routes an in-app token lets in (see inAppTokenAuth), and CORS applies to (see inAppCors). */
export const IN_APP_ROUTE_URLS: ReadonlySet<string> = new Set([INBOX, READ, DISMISS]);

/** The API key, or an in-app token for the URL's customer. */
const IN_APP_SECURITY: Array<Record<string, string[]>> = [{ apiKey: [] }, { inAppToken: [] }];

/**
 * The in-app inbox, for an app to show a customer their messages and mark them read: with the
 * API key from the app's backend, or with an in-app token from the app itself.
 */
export const inAppRoutes: FastifyPluginAsyncZod<{ engine: Engine; clock: Clock; cors: InAppCors }> = async (
  app,
  options,
) => {
  const { engine, clock, cors } = options;
  app.addHook('onSend', cors.addHeaders);
  app.get(
    INBOX,
    {
      schema: {
        tags: ['customers'],
        security: IN_APP_SECURITY,
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
    READ,
    {
      schema: {
        tags: ['customers'],
        security: IN_APP_SECURITY,
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
    DISMISS,
    {
      schema: {
        tags: ['customers'],
        security: IN_APP_SECURITY,
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
