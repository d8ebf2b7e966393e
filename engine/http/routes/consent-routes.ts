import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Clock } from '../../clock.js';
import type { Engine } from '../../engine.js';
import { Timestamp, toEpochMs } from '../../ingest/ingest-schema.js';
import { ConsentRecord, GivenConsentSource } from '../../policy/consent-record.js';
import { ConsentChannel, Topic } from '../../policy/topic.js';
import { orNone } from '../null-fields.js';

const Params = z.object({ userId: z.string().min(1).max(256) });

const ConsentBody = z.object({
  channel: ConsentChannel,
  topic: Topic,
  granted: z.boolean(),
  // Each optional field may come as null, as in ingest: a form's serialiser may write them all.
  source: GivenConsentSource.default('api')
    .nullable()
    .transform((source) => source ?? 'api')
    .describe('where the answer was given: a form, a call centre'),
  textVersion: orNone(z.string().min(1).max(200).optional().describe('the version of the wording agreed to')),
  timestamp: orNone(
    Timestamp.describe(
      'when it was given, an ISO 8601 date-time with offset or epoch ms, as ingest takes it; default now',
    ),
  ),
});

/** Setting and reading a customer's consent, behind the API key. */
export const consentRoutes: FastifyPluginAsyncZod<{ engine: Engine; clock: Clock }> = async (
  app,
  { engine, clock },
) => {
  app.post(
    '/v1/customers/:userId/consent',
    {
      schema: {
        tags: ['consent'],
        summary:
          'Record a consent answer for one channel and topic; with double opt-in an email marketing grant stays pending',
        params: Params,
        body: ConsentBody,
        response: {
          200: z.object({
            record: ConsentRecord,
            confirmUrl: z
              .string()
              .optional()
              .describe('the double opt-in link, also tracked as "Consent Requested"'),
          }),
        },
      },
    },
    async (request) => {
      const { timestamp, ...answer } = request.body;
      return engine.consent.record(request.params.userId, {
        ...answer,
        at: toEpochMs(timestamp, clock.now()),
      });
    },
  );

  app.get(
    '/v1/customers/:userId/consent',
    {
      schema: {
        tags: ['consent'],
        summary: "A customer's consent: what holds per channel and topic, and every change (newest first)",
        params: Params,
        response: { 200: z.object({ current: z.array(ConsentRecord), history: z.array(ConsentRecord) }) },
      },
    },
    async (request) => ({
      current: await engine.consent.store.all(request.params.userId),
      history: await engine.consent.store.history(request.params.userId),
    }),
  );
};
