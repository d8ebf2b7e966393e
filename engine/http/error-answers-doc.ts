import type { SwaggerTransform } from '@fastify/swagger';
import { jsonSchemaTransform } from 'fastify-type-provider-zod';
import { z } from 'zod';

/** The body of every error answer (see ErrorBody), as the reference documents it. */
const ErrorAnswer = z.object({
  error: z.object({
    code: z.string().describe('a stable code, CHORUS_…, listed in docs/errors.md'),
    message: z.string().describe('what happened, and how to fix it'),
    issues: z
      .array(z.object({ field: z.string(), message: z.string() }))
      .optional()
      .describe('on a 400, every bad field, named as `body.batch.3.event` or `querystring.from`'),
    requestId: z.string().describe('as in the X-Request-Id header'),
  }),
});

const errorResponse = (description: string) => ({
  description,
  ...z.toJSONSchema(ErrorAnswer, { target: 'openapi-3.0' }),
});

// Only in the document: answers are not serialized through these (the error handler writes them).
const ERROR_RESPONSES = {
  '4xx': errorResponse(
    "Refused: 400 a bad field (named in `issues`), 401 no valid key, 403 a signature that is not Twilio's or an in-app token of another customer, 404 not found, 409 busy, 413 too large, 415 not JSON, 429 over the rate limit (with Retry-After)",
  ),
  '5xx': errorResponse('503 Redis is unreachable (with Retry-After); 500 an unexpected failure, logged'),
};

/**
 * The document of each route from its zod schemas, with the error answers every `/v1` route may
 * give: a client generated from the reference then knows the shape of a refusal.
 */
export const documentRoute: SwaggerTransform = (document) => {
  const documented = jsonSchemaTransform(document);
  const { schema } = documented;
  // A route documenting no answer (a link's page) keeps the document's default one alone.
  const answers = schema.response as Record<string, unknown> | undefined;
  if (!document.url.startsWith('/v1/') || schema.hide === true || answers === undefined) return documented;
  return { ...documented, schema: { ...schema, response: { ...ERROR_RESPONSES, ...answers } } };
};
