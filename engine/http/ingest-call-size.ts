import type { FastifyRequest } from 'fastify';
import { CALL_SIZE_FIX, callSizeIssue } from '../ingest/call-size.js';
import type { FieldIssue } from '../ingest/ingest-schema.js';
import { InvalidBodyError } from './json-body.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /**
     * Where an ingest route's calls are, each held to MAX_CALL_BYTES: the body is one call, or
     * each item of its `batch` is.
     */
    ingestCalls?: 'body' | 'batch';
  }
}

/**
 * Refuses a parsed JSON body whose ingest calls (as its route's `config.ingestCalls` places them)
 * are larger than `limit` bytes as JSON, naming each (`body`, `body.batch.3`), before anything of
 * it is read further or stored. The JSON parser asks only for a body of more than `limit` bytes:
 * a smaller one holds no larger call, so a call is measured (`JSON.stringify`) only then.
 *
 * @throws InvalidBodyError (400) naming every call too large.
 */
export function checkIngestCalls(request: FastifyRequest, body: unknown, limit: number): void {
  const where = request.routeOptions.config.ingestCalls;
  if (where === undefined) return;
  const issues: FieldIssue[] = [];
  const add = (issue: FieldIssue | undefined) => issue && issues.push(issue);
  if (where === 'body') add(callSizeIssue(body, limit, 'body'));
  else {
    const batch = typeof body === 'object' && body !== null ? (body as { batch?: unknown }).batch : undefined;
    // Another shape is left to the route's schema, which names what is wrong with it.
    if (Array.isArray(batch))
      batch.forEach((call, index) => add(callSizeIssue(call, limit, `body.batch.${index}`)));
  }
  if (issues.length > 0) throw new InvalidBodyError(issues, 'request body', CALL_SIZE_FIX);
}
