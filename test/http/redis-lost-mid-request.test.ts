import Fastify from 'fastify';
import { afterAll, describe, expect, it } from 'vitest';
import { installErrorHandler } from '../../engine/http/error-handler.js';
import { testConnection } from '../support/redis.js';

describe('a request whose Redis connection fails while it is handled', () => {
  const redis = testConnection();
  afterAll(() => redis.disconnect());

  it('gets 503 with Retry-After, saying it may be stored in part, and to retry with the same messageIds', async () => {
    await redis.ping();
    const app = Fastify();
    installErrorHandler(app, redis);
    // As a batch whose first calls were stored before the connection broke.
    app.post('/v1/batch', async () => {
      throw new Error('Connection is closed.');
    });
    const answer = await app.inject({ method: 'POST', url: '/v1/batch', payload: {} });
    await app.close();
    expect(answer.statusCode).toBe(503);
    expect(answer.headers['retry-after']).toBe('1');
    const { error } = answer.json() as { error: { code: string; message: string } };
    expect(error.code).toBe('CHORUS_UNAVAILABLE');
    expect(error.message).toMatch(/may be stored in part/);
    expect(error.message).not.toMatch(/nothing was stored/);
    expect(error.message).toMatch(/same messageIds/);
  });
});
