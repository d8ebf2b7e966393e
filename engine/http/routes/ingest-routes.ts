import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Engine, ParsedIdentify, ParsedTrack } from '../../engine.js';
import { IdentifyInput, TrackInput } from '../../ingest/ingest-schema.js';

/** What an accepted event answers: its id, and whether its messageId had been seen (then it is ignored). */
export const Accepted = z.object({
  eventId: z.string(),
  duplicate: z.boolean().describe('true when the messageId was seen before: accepted and ignored'),
});

const BatchItem = z.discriminatedUnion('type', [
  TrackInput.extend({ type: z.literal('track') }),
  IdentifyInput.extend({ type: z.literal('identify') }),
]);

export const MAX_BATCH = 1000;
const Batch = z.object({ batch: z.array(BatchItem).min(1).max(MAX_BATCH) });

const answer = (result: { accepted: boolean; eventId: string }) => ({
  eventId: result.eventId,
  duplicate: !result.accepted,
});

/**
 * Segment-compatible ingest: `identify`, `track` and `batch`. Each answers 202 only once the
 * event is in the customer's inbox in Redis; a batch is checked whole before any of it is stored.
 * The body is parsed once, by the route's schema; the engine's `accept*` entries take it as parsed.
 */
export const ingestRoutes: FastifyPluginAsyncZod<{ engine: Engine }> = async (app, { engine }) => {
  app.post(
    '/v1/identify',
    {
      schema: {
        tags: ['ingest'],
        summary: 'Set traits on a customer (Segment identify); a null trait removes it',
        body: IdentifyInput,
        response: { 202: Accepted },
      },
    },
    async (request, reply) => reply.code(202).send(answer(await engine.acceptIdentify(request.body))),
  );

  app.post(
    '/v1/track',
    {
      schema: {
        tags: ['ingest'],
        summary: 'Record an event (Segment track); it may enrol the customer in journeys and advance them',
        body: TrackInput,
        response: { 202: Accepted },
      },
    },
    async (request, reply) => reply.code(202).send(answer(await engine.acceptTrack(request.body))),
  );

  app.post(
    '/v1/batch',
    {
      schema: {
        tags: ['ingest'],
        summary: `Up to ${MAX_BATCH} identify and track calls; all are checked before any is stored`,
        body: Batch,
        response: { 202: z.object({ results: z.array(Accepted) }) },
      },
    },
    async (request, reply) => {
      // Issued together on one connection, so Redis applies them in batch order, per customer too.
      const results = await Promise.all(
        request.body.batch.map(({ type, ...call }) =>
          type === 'track'
            ? engine.acceptTrack(call as ParsedTrack)
            : engine.acceptIdentify(call as ParsedIdentify),
        ),
      );
      return reply.code(202).send({ results: results.map(answer) });
    },
  );
};
