import type { FastifyReply, FastifyRequest, onRequestHookHandler } from 'fastify';
import { RateLimitedError } from './http-errors.js';
import type { RateDecision, RequestRateLimiter } from './rate-limit.js';

function answer(decision: RateDecision, reply: FastifyReply): RateLimitedError | undefined {
  void reply.headers({
    'x-ratelimit-limit': decision.limit,
    'x-ratelimit-remaining': decision.remaining,
    'x-ratelimit-reset': decision.resetSeconds,
  });
  if (decision.allowed) return undefined;
  return new RateLimitedError(decision.limit, decision.resetSeconds);
}

/**
 * The `onRequest` hook that applies the limiter to each request, under the key `keyOf` names
 * (the API key, or the address without one). A callback hook rather than an async one: most
 * requests are answered from the block the process holds, with no promise at all. When Redis
 * fails the request is served: the limit protects the service, it does not gate it.
 */
export function rateLimitHook(
  limiter: RequestRateLimiter,
  keyOf: (request: FastifyRequest) => string,
): onRequestHookHandler {
  return (request, reply, done) => {
    const decision = limiter.take(keyOf(request));
    if (!(decision instanceof Promise)) return done(answer(decision, reply));
    decision.then(
      (d) => done(answer(d, reply)),
      (err: unknown) => {
        request.log.warn({ err }, 'rate limit not checked: Redis failed; the request is served');
        done();
      },
    );
  };
}
