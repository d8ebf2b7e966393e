import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ConsentRecord } from '../../engine/policy/consent-record.js';
import { ConsentStore } from '../../engine/policy/consent-store.js';
import { testRedis } from '../support/redis.js';

describe('ConsentStore.confirm', () => {
  let ctx: ReturnType<typeof testRedis>;
  beforeEach(() => {
    ctx = testRedis();
  });
  afterEach(async () => {
    await ctx.cleanup();
  });

  const pending = (at: number): ConsentRecord => ({
    channel: 'email',
    topic: 'marketing',
    state: 'pending',
    at,
    source: 'form',
  });
  const granted: ConsentRecord = {
    ...pending(9_000),
    state: 'granted',
    source: 'double opt-in confirmation',
  };

  it('grants, given the time of a request, only the pending record of that request', async () => {
    const store = new ConsentStore(ctx.redis, ctx.prefix);
    await store.set('u1', pending(1_000));
    // The request was replaced (asked again) between reading it and confirming it.
    await store.set('u1', pending(2_000));
    expect(await store.confirm('u1', granted, 1_000)).toBe(false);
    expect((await store.get('u1', 'email', 'marketing'))?.state).toBe('pending');
    expect(await store.confirm('u1', granted, 2_000)).toBe(true);
    expect((await store.get('u1', 'email', 'marketing'))?.state).toBe('granted');
  });

  it('grants any pending record without a request time (links made before it was recorded)', async () => {
    const store = new ConsentStore(ctx.redis, ctx.prefix);
    await store.set('u2', pending(1_000));
    expect(await store.confirm('u2', granted)).toBe(true);
    expect(await store.confirm('u2', granted)).toBe(false);
  });
});
