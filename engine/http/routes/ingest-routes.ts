import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Clock } from '../../clock.js';
import type { Engine, ParsedIdentify, ParsedTrack } from '../../engine.js';
import { correctClockSkew } from '../clock-skew.js';
import {
  ANONYMOUS,
  BatchCall,
  IGNORED_CALL_TYPES,
  Ignored,
  IgnoredCall,
  ignoredCall,
  SegmentIdentify,
  SegmentTrack,
  SentAt,
  withContextTraits,
} from '../segment-calls.js';

/** What an accepted event answers: its id, and whether its messageId had been seen (then it is ignored). */
export const Accepted = z.object({
  eventId: z.string(),
  duplicate: z.boolean().describe('true when the messageId was seen before: accepted and ignored'),
});

export const MAX_BATCH = 1000;
const Batch = z.object({
  batch: z.array(BatchCall).min(1).max(MAX_BATCH),
  // Segment's server libraries send it once for the whole batch.
  sentAt: SentAt,
});

const answer = (result: { accepted: boolean; eventId: string }) => ({
  eventId: result.eventId,
  duplicate: !result.accepted,
});

type Anonymous = { userId?: string | null | undefined; anonymousId?: string | null | undefined };

/** The call as the engine takes it, once it names a customer: without Segment's `anonymousId`. */
function identified<T extends Anonymous>({
  anonymousId: _,
  ...call
}: T): (T & { userId: string }) | undefined {
  return call.userId === undefined || call.userId === null ? undefined : (call as T & { userId: string });
}

/**
 * Segment-compatible ingest: `identify`, `track` and `batch`. Each answers 200 only once the
 * event is in the customer's inbox in Redis; a batch is checked whole before any of it is stored.
 * 200, as Segment's API answers, not 202: Segment's PHP and .NET libraries count only a 200 as
 * sent, and post a batch answered with any other 2xx again, without end.
 * The body is parsed once, by the route's schema; the engine's `accept*` entries take it as parsed.
 * A visitor's call with no `userId`, and `page`, `screen`, `group` and `alias` calls, are
 * accepted and ignored (segment-calls.ts). Each call, in a batch too, is held to MAX_CALL_BYTES
 * as the body is parsed (`config.ingestCalls`, see checkIngestCalls).
 */
export const ingestRoutes: FastifyPluginAsyncZod<{ engine: Engine; clock: Clock }> = async (
  app,
  { engine, clock },
) => {
  // Each call's timestamp by this server's clock (correctClockSkew), read as the request arrives.
  const track = async (
    call: z.output<typeof SegmentTrack>,
    receivedAt: number,
    batchSentAt?: string | number | null,
  ) => {
    const known = identified(correctClockSkew(call, receivedAt, batchSentAt));
    return known ? answer(await engine.acceptTrack(known as ParsedTrack)) : ANONYMOUS;
  };
  const identify = async (
    call: z.output<typeof SegmentIdentify>,
    receivedAt: number,
    batchSentAt?: string | number | null,
  ) => {
    const known = identified(correctClockSkew(withContextTraits(call), receivedAt, batchSentAt));
    return known ? answer(await engine.acceptIdentify(known as ParsedIdentify)) : ANONYMOUS;
  };

  app.post(
    '/v1/identify',
    {
      config: { ingestCalls: 'body' },
      schema: {
        tags: ['ingest'],
        summary: 'Set traits on a customer (Segment identify); a null trait removes it',
        body: SegmentIdentify,
        response: { 200: z.union([Accepted, Ignored]) },
      },
    },
    async (request, reply) => reply.code(200).send(await identify(request.body, clock.now())),
  );

  app.post(
    '/v1/track',
    {
      config: { ingestCalls: 'body' },
      schema: {
        tags: ['ingest'],
        summary: 'Record an event (Segment track); it may enrol the customer in journeys and advance them',
        body: SegmentTrack,
        response: { 200: z.union([Accepted, Ignored]) },
      },
    },
    async (request, reply) => reply.code(200).send(await track(request.body, clock.now())),
  );

  // `/v1/import` is the batch route's older name, which Segment's Ruby, Java and PHP libraries
  // (and its classic Android one) still post to.
  for (const [path, summary] of [
    ['/v1/batch', `Up to ${MAX_BATCH} Segment calls; all are checked before any is stored`],
    ['/v1/import', 'The same as /v1/batch, under the older name some Segment libraries post to'],
  ] as const)
    app.post(
      path,
      {
        config: { ingestCalls: 'batch' },
        schema: {
          tags: ['ingest'],
          summary,
          body: Batch,
          response: { 200: z.object({ results: z.array(z.union([Accepted, Ignored])) }) },
        },
      },
      async (request, reply) => {
        // Calls of different customers go side by side; those of one customer one after another,
        // each once the one before is stored. Issued together they would reach Redis in batch order
        // only while no script call is sent twice: one answered NOSCRIPT (the script cache emptied
        // by a Redis restart) is sent again after the calls behind it, which another process may
        // have made work meanwhile by loading the script.
        const lastOf = new Map<string, Promise<unknown>>();
        const receivedAt = clock.now();
        const { sentAt } = request.body;
        const results = await Promise.all(
          request.body.batch.map(({ type, ...call }) => {
            const run = async () => {
              if (type === 'track') return track(call as z.output<typeof SegmentTrack>, receivedAt, sentAt);
              if (type === 'identify')
                return identify(call as z.output<typeof SegmentIdentify>, receivedAt, sentAt);
              return ignoredCall(type);
            };
            const userId = (call as Anonymous).userId;
            if (typeof userId !== 'string' || (type !== 'track' && type !== 'identify')) return run();
            // A call after one that failed is not stored: the batch answers 503 and is sent again.
            const result = (lastOf.get(userId) ?? Promise.resolve()).then(run);
            lastOf.set(userId, result);
            return result;
          }),
        );
        return reply.code(200).send({ results });
      },
    );

  for (const type of IGNORED_CALL_TYPES)
    app.post(
      `/v1/${type}`,
      {
        config: { ingestCalls: 'body' },
        schema: {
          tags: ['ingest'],
          summary: `A Segment ${type} call: accepted and ignored, as journeys do not use it`,
          body: IgnoredCall,
          response: { 200: Ignored },
        },
      },
      async (_request, reply) => reply.code(200).send(ignoredCall(type)),
    );
};
