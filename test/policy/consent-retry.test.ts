import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { identifyConsentMarker } from '../../engine/ingest/identify-consent.js';
import { createConsentService } from '../../engine/policy/consent-service.js';
import { ConsentStore } from '../../engine/policy/consent-store.js';
import { CustomerStore } from '../../engine/store/customer-store.js';
import { testRedis } from '../support/redis.js';

describe('the consent answers of a batch retried after a failure', () => {
  let ctx: ReturnType<typeof testRedis>;
  beforeEach(() => {
    ctx = testRedis();
  });
  afterEach(async () => {
    await ctx.cleanup();
  });

  it('keep a later refusal when only the earlier grant failed to ask for its confirmation', async () => {
    const store = new CustomerStore(ctx.redis, { prefix: ctx.prefix });
    let failures = 1;
    const tracked: string[] = [];
    const consent = createConsentService({
      store: new ConsentStore(ctx.redis, ctx.prefix),
      doubleOptIn: true,
      confirmLink: { baseUrl: 'https://chorus.example.com', secret: 'a-secret-of-sixteen-chars' },
      track: async ({ event, messageId }) => {
        // Asking for the confirmation fails once (a Redis hiccup), as the batch is being answered.
        if (failures-- > 0) throw new Error('connection lost');
        tracked.push(`${event} ${messageId}`);
      },
    });
    // [sign-up: email marketing granted] then [email marketing refused], as /v1/batch issues them.
    const batch = () =>
      Promise.all([
        consent.recordTrait(
          'u1',
          { email: { marketing: true } },
          1_000,
          identifyConsentMarker(store, { userId: 'u1', messageId: 'signup' }),
        ),
        consent.recordTrait(
          'u1',
          { email: { marketing: false } },
          2_000,
          identifyConsentMarker(store, { userId: 'u1', messageId: 'refusal' }),
        ),
      ]);
    await expect(batch()).rejects.toThrow('connection lost');
    // The client retries the whole batch with the same message ids.
    await batch();
    expect(await consent.store.get('u1', 'email', 'marketing')).toMatchObject({ state: 'denied', at: 2_000 });
    // Nor is a confirmation asked for a grant the customer has refused since.
    expect(tracked).toEqual([]);
  });

  it('ask for the confirmation a failed try could not ask for, once, while its grant is pending', async () => {
    const store = new CustomerStore(ctx.redis, { prefix: ctx.prefix });
    let failures = 1;
    const tracked: string[] = [];
    const consent = createConsentService({
      store: new ConsentStore(ctx.redis, ctx.prefix),
      doubleOptIn: true,
      confirmLink: { baseUrl: 'https://chorus.example.com', secret: 'a-secret-of-sixteen-chars' },
      track: async ({ event, messageId }) => {
        if (failures-- > 0) throw new Error('connection lost');
        tracked.push(`${event} ${messageId}`);
      },
    });
    const signUp = () =>
      consent.recordTrait(
        'u2',
        { email: { marketing: true } },
        1_000,
        identifyConsentMarker(store, { userId: 'u2', messageId: 'signup' }),
      );
    await expect(signUp()).rejects.toThrow('connection lost');
    await signUp();
    await signUp();
    expect(await consent.store.get('u2', 'email', 'marketing')).toMatchObject({
      state: 'pending',
      at: 1_000,
    });
    // Both retries ask under the same event id, so the confirmation email goes once.
    expect(tracked).toHaveLength(2);
    expect(new Set(tracked).size).toBe(1);
    expect((await consent.store.history('u2')).map((r) => r.state)).toEqual(['pending']);
  });
});

describe('a double opt-in confirmation retried after a failure', () => {
  let ctx: ReturnType<typeof testRedis>;
  beforeEach(() => {
    ctx = testRedis();
  });
  afterEach(async () => {
    await ctx.cleanup();
  });

  it('tracks Consent Confirmed once, though the first try died after recording the grant', async () => {
    let failures = 0;
    const tracked: string[] = [];
    const consent = createConsentService({
      store: new ConsentStore(ctx.redis, ctx.prefix),
      doubleOptIn: true,
      confirmLink: { baseUrl: 'https://chorus.example.com', secret: 'a-secret-of-sixteen-chars' },
      eventIdMemoryMs: 86_400_000,
      track: async ({ event, messageId }) => {
        if (event === 'Consent Confirmed' && failures-- > 0) throw new Error('connection lost');
        tracked.push(`${event} ${messageId}`);
      },
    });
    const [asked] = await consent.recordAll('u3', [
      { channel: 'email', topic: 'marketing', granted: true, source: 'form', at: 1_000 },
    ]);
    const token = new URL(asked!.confirmUrl!).searchParams.get('token')!;
    tracked.length = 0;

    // The grant is written, then the event cannot be tracked (Redis went away): the person clicks again.
    failures = 1;
    await expect(consent.confirm(token, 5_000)).rejects.toThrow('connection lost');
    expect(await consent.store.get('u3', 'email', 'marketing')).toMatchObject({
      state: 'granted',
      at: 5_000,
    });
    expect(await consent.confirm(token, 6_000)).toMatchObject({ state: 'granted', at: 5_000 });
    // A third click asks under the same id, so the journey on the event starts once.
    await consent.confirm(token, 7_000);
    expect(tracked).toHaveLength(2);
    expect(new Set(tracked).size).toBe(1);
    expect(tracked[0]).toMatch(/^Consent Confirmed /);
    // Once that id is forgotten, an old link followed again tracks nothing.
    await consent.confirm(token, 5_000 + 86_400_000);
    expect(tracked).toHaveLength(2);
  });
});
