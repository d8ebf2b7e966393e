import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  customerKeys,
  customerToken,
  readConversions,
  recordEngagement,
  timerJobId,
  recountJourneys,
  readJourneyCounts,
} from '../../engine/index.js';
import { createInAppAdapter } from '../../engine/channels/in-app-adapter.js';
import { keysSharingTag } from '../../engine/redis/scan-keys.js';
import { deliveryFor } from '../channels/support.js';
import { onboarding } from '../fixtures/journeys/onboarding.js';
import { httpHarness, type HttpHarness } from '../support/http.js';
import { eventually } from '../support/redis.js';
import { customerInVariant } from '../support/variants.js';

describe('reading and managing customers and journeys', () => {
  let h: HttpHarness;
  beforeEach(async () => {
    h = await httpHarness({ journeys: [onboarding] });
  });
  afterEach(() => h.close());

  const get = (url: string) => h.app.inject({ url, headers: h.auth });

  async function signUp(userId: string) {
    await h.engine.identify({ userId, traits: { firstName: 'Ada', email: `${userId}@example.com` } });
    await h.engine.track({ userId, event: 'Signed Up', properties: { plan: 'pro' } });
    return eventually(async () => {
      const c = await h.engine.customer(userId);
      return c.messages.some((m) => m.status === 'sent') && c.instances.length > 0 ? c : undefined;
    });
  }

  it('shows 404 for a customer never seen', async () => {
    const res = await get('/v1/customers/nobody');
    expect(res.statusCode).toBe(404);
    expect(res.json()).toMatchObject({ error: { code: 'CHORUS_NOT_FOUND' } });
  });

  it('answers a path it cannot read in the error shape, with its request id like every answer', async () => {
    for (const path of [
      '/v1/customers/%',
      '/v1/customers/%C0%AF/export',
      `/v1/customers/${'a'.repeat(9000)}`,
    ]) {
      const res = await h.app.inject({ url: path, headers: { ...h.auth, 'x-request-id': 'support-42' } });
      expect(res.statusCode, path.slice(0, 40)).toBeGreaterThanOrEqual(400);
      expect(res.json(), path.slice(0, 40)).toMatchObject({
        error: { code: 'CHORUS_BAD_REQUEST', requestId: 'support-42' },
      });
      expect(res.headers['x-request-id'], path.slice(0, 40)).toBe('support-42');
    }
  });

  it('counts customers per state and per stage in GET /v1/journeys', async () => {
    const tips = [customerInVariant('tips', 'a'), customerInVariant('tips', 'b')];
    const holdout = customerInVariant('holdout', 'c');
    for (const id of [...tips, holdout]) await signUp(id);
    const res = await get('/v1/journeys');
    expect(res.statusCode).toBe(200);
    const [journey] = res.json<{ journeys: Array<Record<string, unknown>> }>().journeys;
    expect(journey).toMatchObject({
      id: 'onboarding',
      version: 1,
      trigger: { event: 'Signed Up' },
      entered: 3,
      stages: { consideration: 2, awareness: 1 },
    });
    const states = journey!.states as Array<{ state: string; customers: number; stage: string }>;
    expect(states.find((s) => s.state === 'browsing')).toEqual({
      state: 'browsing',
      stage: 'consideration',
      customers: 2,
    });
    expect(states.find((s) => s.state === 'holdout')?.customers).toBe(1);
    // The live counts agree with a recount from the customers themselves.
    const live = await readJourneyCounts(h.redis, h.prefix, 'onboarding');
    await recountJourneys(h.redis, h.prefix);
    expect(await readJourneyCounts(h.redis, h.prefix, 'onboarding')).toEqual(live);
    expect((await get('/v1/journeys/onboarding')).json()).toMatchObject({ id: 'onboarding', entered: 3 });
    // Reaching the goal counts as a conversion and moves the customer to loyalty.
    await h.engine.track({ userId: tips[0]!, event: 'Order Completed', properties: { revenue: 20 } });
    const converted = await eventually(async () => {
      const body = (await get('/v1/journeys/onboarding')).json<{
        converted: number;
        stages: Record<string, number>;
      }>();
      return body.converted === 1 ? body : undefined;
    });
    expect(converted.stages).toMatchObject({ consideration: 1, loyalty: 1, awareness: 1 });
    expect(converted).toMatchObject({
      funnel: { awareness: 3, consideration: 2, decision: 1, loyalty: 1 },
      experiments: {
        'tips=tips': { entered: 2, converted: 1 },
        'tips=holdout': { entered: 1, converted: 0 },
      },
    });
    const [conversion] = await readConversions(h.redis, h.prefix, 'onboarding', 0, Date.now() + 1000);
    expect(conversion).toMatchObject({ customerId: tips[0], revenue: 20, variants: { tips: 'tips' } });
    const unknown = await get('/v1/journeys/nope');
    expect(unknown.statusCode).toBe(404);
    // A mistyped id is shown beside the ids that are loaded.
    expect(unknown.json()).toMatchObject({
      error: { code: 'CHORUS_JOURNEY_NOT_FOUND', message: expect.stringContaining('(loaded: onboarding') },
    });
  });

  it('exports everything stored about a customer, then erases all of it', async () => {
    const id = customerInVariant('tips', 'erase');
    await signUp(id);
    const exported = await get(`/v1/customers/${encodeURIComponent(id)}/export`);
    expect(exported.statusCode).toBe(200);
    expect(exported.json()).toMatchObject({
      userId: id,
      traits: { email: `${id}@example.com` },
      journeyInstances: [{ journeyId: 'onboarding', state: 'browsing' }],
      messages: [{ message: 'welcome', status: 'sent' }],
    });
    expect(exported.json().deletedInstanceCounts).toEqual({});
    // Dated by the engine's clock, as the message and instance times in it are.
    expect(exported.json().exportedAt).toBe(new Date(h.clock.now()).toISOString());
    const metrics = await h.app.inject('/metrics');
    expect(metrics.body).toMatch(/chorus_sends_total\{channel="email",status="sent"\} 1/);
    // Totals that only grow are typed as counters, so Prometheus's rate() reads them as such.
    expect(metrics.body).toMatch(/^# TYPE chorus_sends_total counter$/m);
    expect(metrics.body).toMatch(/^# TYPE chorus_jobs_finished_total counter$/m);
    expect(metrics.body).toMatch(/^# TYPE chorus_policy_decisions_total counter$/m);
    // A job is the customer's when its data or its id (a timer's id names the customer) does.
    const ofCustomer = (job: { id?: string | undefined; data: unknown }) =>
      JSON.stringify(job.data).includes(id) || (job.id ?? '').startsWith(`t-${customerToken(id)}-`);
    // The customer has a pending timer (browsing waits 2 days) in the timer wheel, named by their
    // instance only: the job index names their send, not the committed timer.
    const wheel = h.engine.timerWheel.keys[0]!;
    const waiting = await h.redis.zrange(wheel, 0, -1);
    expect(waiting.filter((jobId) => ofCustomer({ id: jobId, data: {} }))).toHaveLength(1);
    const indexed = await h.redis.smembers(customerKeys(h.prefix, id).jobs);
    expect(indexed.filter((member) => member.startsWith('t:'))).toEqual([]);
    expect(indexed.filter((member) => member.startsWith('s:'))).toHaveLength(1);

    const erased = await h.app.inject({
      method: 'DELETE',
      url: `/v1/customers/${encodeURIComponent(id)}`,
      headers: h.auth,
    });
    expect(erased.statusCode).toBe(200);
    expect(erased.json()).toMatchObject({ erased: true, jobsRunning: 0 });
    expect(erased.json<{ jobsRemoved: number }>().jobsRemoved).toBeGreaterThanOrEqual(2);

    expect((await get(`/v1/customers/${encodeURIComponent(id)}`)).statusCode).toBe(404);
    const keys = await h.redis.keys(`${h.prefix}:c:*`);
    expect(keys).toEqual([]);
    for (const queue of [h.engine.queues.journeys, ...Object.values(h.engine.queues.deliveries)]) {
      const jobs = await queue.getJobs(['waiting', 'delayed', 'completed', 'failed', 'active']);
      expect(jobs.filter(ofCustomer)).toEqual([]);
    }
    expect(
      (await h.redis.zrange(wheel, 0, -1)).filter((jobId) => ofCustomer({ id: jobId, data: {} })),
    ).toEqual([]);
    const [counts] = await readJourneyCounts(h.redis, h.prefix, 'onboarding');
    expect(counts?.active).toBe(0);
  });

  it('counts the keys the customer had, not those the erasure made, also for a customer never seen', async () => {
    const erase = async (userId: string) =>
      (await h.app.inject({ method: 'DELETE', url: `/v1/customers/${userId}`, headers: h.auth })).json<{
        keys: number;
      }>();
    expect(await erase('never-seen')).toMatchObject({ keys: 0 });

    await signUp('counted');
    // Nothing of the customer moves once their welcome is sent, the step that sent it has let go
    // of the customer, and they wait to browse.
    const keys = customerKeys(h.prefix, 'counted');
    const before = await eventually(async () => {
      const found = await keysSharingTag(h.redis, keys.state);
      return found.includes(keys.lease) ? undefined : found;
    });
    expect(before.length).toBeGreaterThan(0);
    expect(await erase('counted')).toMatchObject({ keys: before.length });
    expect(await erase('counted')).toMatchObject({ keys: 0 });
  });

  it('erases the timers a step added before it died, which nothing names yet', async () => {
    const id = customerInVariant('tips', 'died');
    const [instance] = (await signUp(id)).instances;
    // A step takes the lease (leaving its mark), adds a delayed timer job and a wheel entry, and
    // dies before its commit; the lease then expires.
    const keys = customerKeys(h.prefix, id);
    expect(await h.engine.store.acquire(keys, 'died-mid-step')).toBeDefined();
    const orphanJob = timerJobId(id, instance!.id, 99, 0);
    const orphanEntry = timerJobId(id, instance!.id, 99, 1);
    await h.engine.queues.journeys.add('timer', { v: 2 }, { jobId: orphanJob, delay: 3_600_000 });
    await h.redis.zadd(h.engine.timerWheel.keyOf(orphanEntry), Date.now() + 86_400_000, orphanEntry);
    await h.redis.del(keys.lease);
    expect(await h.redis.smembers(keys.jobs)).not.toContain(`t:${orphanJob}`);

    const erased = await h.app.inject({
      method: 'DELETE',
      url: `/v1/customers/${encodeURIComponent(id)}`,
      headers: h.auth,
    });
    expect(erased.statusCode).toBe(200);
    expect(await h.engine.queues.journeys.getJob(orphanJob)).toBeUndefined();
    expect(await h.redis.zscore(h.engine.timerWheel.keyOf(orphanEntry), orphanEntry)).toBeNull();
    expect(await h.redis.keys(`${h.prefix}:c:*`)).toEqual([]);
  });

  it('leaves no mark on a customer once a step has committed or let go', async () => {
    const id = customerInVariant('tips', 'marked');
    await signUp(id);
    expect(await h.redis.hget(customerKeys(h.prefix, id).state, 'step')).toBeNull();
  });

  it("exports the customer's conversions, each with its time and revenue, as the journeys' logs hold them", async () => {
    const id = customerInVariant('tips', 'buyer');
    await signUp(id);
    await signUp('someone-else');
    for (const userId of [id, 'someone-else'])
      await h.engine.track({ userId, event: 'Order Completed', properties: { revenue: 20 } });
    await eventually(
      async () => (await readConversions(h.redis, h.prefix, 'onboarding', 0, Date.now() + 1000)).length === 2,
    );
    const exported = await get(`/v1/customers/${encodeURIComponent(id)}/export`);
    // The instance records only when it converted; the order's revenue is in the log alone.
    expect(exported.json().conversions).toEqual([
      expect.objectContaining({
        customerId: id,
        journeyId: 'onboarding',
        revenue: 20,
        at: expect.any(Number),
      }),
    ]);
  });

  it('exports what it keeps of each send: first open, delivery and the like, past the engagement list', async () => {
    await signUp('ada');
    // More sends reported delivered than the list of engagement events keeps (200): the first
    // sends' entries leave the list, their times stay on the send.
    for (let i = 0; i < 210; i++) {
      const send = {
        opId: `s-ada-onboarding.1-${i}-0`,
        customerId: 'ada',
        journeyId: 'onboarding',
        message: 'welcome',
        channel: 'email' as const,
        variant: 'control',
      };
      await recordEngagement(h.redis, h.prefix, { send, kind: 'delivered', at: 1_000 + i });
    }
    const exported = (await get('/v1/customers/ada/export')).json<{
      engagement: unknown[];
      sendEngagement: Record<string, unknown>;
    }>();
    expect(exported.engagement).toHaveLength(200);
    expect(Object.keys(exported.sendEngagement)).toHaveLength(210);
    expect(exported.sendEngagement['s-ada-onboarding.1-0-0']).toEqual({ deliveredAt: 1_000 });
  });

  it('shows and exports a customer whose stored lists hold entries it cannot read', async () => {
    await signUp('ada');
    const keys = customerKeys(h.prefix, 'ada');
    // A write cut short, and entries of another shape (edited by hand, or by a newer version).
    await h.redis.lpush(keys.messages, '{"opId":"s-cut', JSON.stringify({ note: 'by hand' }));
    await h.redis.rpush(keys.dead, 'not json');
    await h.redis.rpush(keys.events, '{"kind":"tr');
    await h.redis.rpush(keys.engagement, '[1]');
    await h.redis.rpush(keys.consentLog, JSON.stringify({ channel: 'fax' }));

    const page = await get('/v1/customers/ada');
    expect(page.statusCode).toBe(200);
    const messages = page.json<{ messages: Array<{ status: string }> }>().messages;
    expect(messages.length).toBeGreaterThan(0);
    expect(messages.every((m) => typeof m.status === 'string')).toBe(true);

    const exported = await get('/v1/customers/ada/export');
    expect(exported.statusCode).toBe(200);
    expect(exported.json()).toMatchObject({
      unreadableEntries: {
        messages: ['{"opId":"s-cut'],
        deadLetters: ['not json'],
        recentEvents: ['{"kind":"tr'],
        engagement: ['[1]'],
        consent: [JSON.stringify({ channel: 'fax' })],
      },
    });
    expect(exported.json<{ recentEvents: unknown[] }>().recentEvents.length).toBeGreaterThan(0);
  });

  it('exports every in-app message a customer has, also past a thousand', async () => {
    await signUp('ada');
    // An app that keeps more than the default hundred a customer.
    const inApp = createInAppAdapter({ redis: h.redis, prefix: h.prefix, maxMessages: 1_500 });
    for (let i = 0; i < 1_005; i++)
      await inApp.send(deliveryFor('in-app', { opId: `s-ada-onboarding.1-${i}-0`, customerId: 'ada' }));
    const exported = await get('/v1/customers/ada/export');
    expect(exported.json<{ inAppMessages: unknown[] }>().inAppMessages).toHaveLength(1_005);
  });
});

describe("a customer's export and the suppression list", () => {
  let h: HttpHarness;
  beforeEach(async () => {
    h = await httpHarness({ journeys: [] });
  });
  afterEach(() => h.close());

  it('lists what the list holds for the email address, phone number and push token the customer has', async () => {
    await h.engine.identify({
      userId: 'ada',
      traits: { email: ' Ada@Example.com ', phone: '+1 555 0100', pushToken: 'fcm-token-1' },
    });
    await eventually(async () => (await h.engine.customer('ada')).profile.email !== undefined || undefined);
    const at = Date.parse('2026-11-23T10:00:00.000Z');
    await h.engine.suppressions.add(
      { kind: 'email', value: 'ada@example.com' },
      { reason: 'unsubscribe', at, source: 'one-click unsubscribe' },
    );
    await h.engine.suppressions.add(
      { kind: 'phone', value: '+15550100' },
      { reason: 'hard-bounce', at, source: 'twilio' },
    );
    await h.engine.suppressions.add(
      { kind: 'push', value: 'fcm-token-1' },
      { reason: 'hard-bounce', at, source: 'fcm' },
    );
    // Another customer's address is not theirs to see.
    await h.engine.suppressions.add(
      { kind: 'email', value: 'grace@example.com' },
      { reason: 'complaint', at, source: 'delivery-events' },
    );
    const exported = await h.app.inject({ url: '/v1/customers/ada/export', headers: h.auth });
    expect(exported.json<{ suppressions: unknown[] }>().suppressions).toEqual([
      {
        kind: 'email',
        address: 'Ada@Example.com',
        reason: 'unsubscribe',
        at,
        source: 'one-click unsubscribe',
      },
      { kind: 'phone', address: '+1 555 0100', reason: 'hard-bounce', at, source: 'twilio' },
      { kind: 'push', address: 'fcm-token-1', reason: 'hard-bounce', at, source: 'fcm' },
    ]);
  });
});
