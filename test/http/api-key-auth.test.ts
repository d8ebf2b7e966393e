import type { FastifyRequest } from 'fastify';
import { describe, expect, it } from 'vitest';
import { apiKeyChecker } from '../../engine/http/api-key-auth.js';

const KEY = 'test-key-0123456789abcdef';

/** A request as the checker reads it: its Authorization header, on a given connection. */
const requestOn = (socket: object, authorization?: string) =>
  ({
    headers: authorization === undefined ? {} : { authorization },
    raw: { socket },
  }) as unknown as FastifyRequest;

describe('apiKeyChecker', () => {
  it('judges each header a keep-alive connection sends, not only its first', async () => {
    const keys = apiKeyChecker([KEY, 'next-key-0123456789abcdef']);
    const socket = {};
    const valid = keys.keyOf(requestOn(socket, `Bearer ${KEY}`));
    expect(valid).toMatch(/^key-[0-9a-f]{12}$/);
    expect(keys.keyOf(requestOn(socket, `Bearer ${KEY}`))).toBe(valid);
    expect(keys.keyOf(requestOn(socket, 'Bearer nope'))).toBeUndefined();
    await expect(keys.requireKey(requestOn(socket, 'Bearer nope'))).rejects.toMatchObject({
      code: 'CHORUS_UNAUTHORIZED',
    });
    await expect(keys.requireKey(requestOn(socket))).rejects.toMatchObject({ code: 'CHORUS_UNAUTHORIZED' });
    expect(keys.keyOf(requestOn(socket, 'Bearer next-key-0123456789abcdef'))).not.toBe(valid);
    expect(keys.keyOf(requestOn({}, `Bearer ${KEY}`))).toBe(valid);
  });
});
