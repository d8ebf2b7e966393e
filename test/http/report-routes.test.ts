import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { defineJourney, Revenue } from '../../engine/index.js';
import { onboarding } from '../fixtures/journeys/onboarding.js';
import { httpHarness, type HttpHarness } from '../support/http.js';
import { eventually } from '../support/redis.js';
import { customerInVariant } from '../support/variants.js';

describe('GET /v1/journeys/:id/report', () => {
  let h: HttpHarness;
  beforeEach(async () => {
    h = await httpHarness({ journeys: [onboarding] });
  });
  afterEach(() => h.close());

  async function signUp(userId: string) {
    await h.engine.identify({ userId, traits: { email: `${userId}@example.com` } });
    await h.engine.track({ userId, event: 'Signed Up' });
    await eventually(async () => (await h.engine.customer(userId)).messages.some((m) => m.status === 'sent'));
  }

  it('reports the funnel, conversions with their attribution, the experiment and the objective', async () => {
    const tips = ['a', 'b', 'c'].map((salt) => customerInVariant('tips', salt));
    const holdout = ['d', 'e'].map((salt) => customerInVariant('holdout', salt));
    for (const id of [...tips, ...holdout]) await signUp(id);
    // Two of the tips arm buy, one of the holdout.
    for (const [id, revenue] of [
      [tips[0]!, 30],
      [tips[1]!, 10],
      [holdout[0]!, 20],
    ] as const)
      await h.engine.track({ userId: id, event: 'Order Completed', properties: { revenue } });
    // The report's period ends at the clock's now, exclusive: a minute on, the purchases fall in it.
    h.clock.advance('1m');
    const report = await eventually(async () => {
      const res = await h.app.inject({ url: '/v1/journeys/onboarding/report', headers: h.auth });
      const body = res.json<
        Record<string, unknown> & { converted: number; channels: { email?: { sent: number } } }
      >();
      // The three buyers' thank-you emails are sent after they convert.
      return body.converted === 3 && body.channels.email?.sent === 8 ? body : undefined;
    });
    expect(report).toMatchObject({
      journey: { id: 'onboarding', version: 1 },
      entered: 5,
      converted: 3,
      conversionRate: 0.6,
      funnel: { awareness: 5, loyalty: 3 },
      periodConversions: { count: 3, revenue: 60 },
      // The last 30 days by the API's clock, the one the workers stamped the events with.
      period: {
        from: new Date(h.clock.now() - 30 * 86_400_000).toISOString(),
        to: new Date(h.clock.now()).toISOString(),
      },
    });
    // Every buyer had one touch, the welcome email, within the 14-day window.
    const attribution = report.attribution as {
      windowMs: number;
      models: Record<string, { byChannel: Record<string, { conversions: number; revenue: number }> }>;
    };
    expect(attribution.windowMs).toBe(14 * 86_400_000);
    for (const model of ['first-touch', 'last-touch', 'linear', 'time-decay', 'position-based'])
      expect(attribution.models[model]!.byChannel.email).toEqual({ conversions: 3, revenue: 60 });
    const [experiment] = report.experiments as Array<{
      split: string;
      control: string;
      report: {
        variants: Array<{ variant: string; entered: number; converted: number }>;
        journeyLift: { pValue: number } | null;
      };
    }>;
    expect(experiment).toMatchObject({ split: 'tips', control: 'tips' });
    expect(experiment!.report.variants).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ variant: 'tips', entered: 3, converted: 2 }),
        expect.objectContaining({ variant: 'holdout', entered: 2, converted: 1, holdout: true }),
      ]),
    );
    expect(experiment!.report.journeyLift?.pValue).toBeGreaterThan(0);
    // Five welcomes and three thank-yous; the conversions are credited to the welcomes (last touch
    // before converting). The emails went out untracked: their opens were not seen, not 0%.
    expect(report.channels).toMatchObject({
      email: { sent: 8, conversions: 3, deliveryRate: 1, conversionRate: 3 / 8, openRate: null },
    });
    expect(report.messages).toMatchObject({
      welcome: { sent: 5, conversions: 3, conversionRate: 0.6 },
      'thank-you': { sent: 3, conversions: 0 },
    });
    // Per arm: the split is decided as the journey enters `welcome`, so its welcome email goes out
    // in the arm too; the tips arm's three welcomes and two thank-yous, the holdout's two and one.
    expect(report.variants).toEqual({
      'tips=tips': expect.objectContaining({ sent: 5, conversions: 2 }),
      'tips=holdout': expect.objectContaining({ sent: 3, conversions: 1 }),
    });
    // Today's row: five entries, three conversions, each state entered as it happened.
    const today = (
      report.daily as Array<{
        day: string;
        entered: number;
        converted: number;
        states: Record<string, number>;
        stages: Record<string, number>;
      }>
    ).at(-1)!;
    expect(today).toMatchObject({
      entered: 5,
      converted: 3,
      states: { browsing: 3, holdout: 2, customer: 3 },
    });
    expect(today.stages).toMatchObject({ consideration: 3, awareness: 2, loyalty: 3 });
    expect(report.objective).toMatchObject({ metric: 'conversions', actual: 3, target: 10, met: false });
  });

  it('takes plain dates as whole UTC days: from the start of `from` to the end of `to`', async () => {
    const period = async (query: string) => {
      const res = await h.app.inject({ url: `/v1/journeys/onboarding/report?${query}`, headers: h.auth });
      expect(res.statusCode).toBe(200);
      return res.json<{ period: { from: string; to: string } }>().period;
    };
    expect(await period('from=2026-12-01&to=2026-12-31')).toEqual({
      from: '2026-12-01T00:00:00.000Z',
      to: '2027-01-01T00:00:00.000Z',
    });
    // One day is a whole day, not an empty period.
    expect(await period('from=2026-12-01&to=2026-12-01')).toEqual({
      from: '2026-12-01T00:00:00.000Z',
      to: '2026-12-02T00:00:00.000Z',
    });
    // A whole leap year is one report.
    expect(await period('from=2024-01-01&to=2024-12-31')).toEqual({
      from: '2024-01-01T00:00:00.000Z',
      to: '2025-01-01T00:00:00.000Z',
    });
    expect(await period('from=2026-12-01&to=2026-12-02T12:00:00%2B01:00')).toEqual({
      from: '2026-12-01T00:00:00.000Z',
      to: '2026-12-02T11:00:00.000Z',
    });
    // The default `from`, 30 days before `to`, is not before 1970, which a given one cannot be.
    expect(await period('to=1970-01-02')).toEqual({
      from: '1970-01-01T00:00:00.000Z',
      to: '1970-01-03T00:00:00.000Z',
    });
  });

  it('names the query field and the forms it accepts for a value it cannot read', async () => {
    for (const [query, field] of [
      ['from=2026-12-1&to=2026-12-31', 'querystring.from'],
      ['from=2026-12-01&to=31.12.2026', 'querystring.to'],
      ['from=&to=2026-12-31', 'querystring.from'],
      // Epoch milliseconds past what a date can hold (year 275760) were taken, and the report
      // failed with a 500 turning them into dates.
      ['to=9999999999999999', 'querystring.to'],
      ['from=9000000000000000&to=2026-12-31', 'querystring.from'],
      // A date before 1970 was refused as "Invalid input", with no word of what would do.
      ['from=1969-12-31&to=2026-12-31', 'querystring.from'],
    ] as const) {
      const res = await h.app.inject({ url: `/v1/journeys/onboarding/report?${query}`, headers: h.auth });
      expect(res.statusCode).toBe(400);
      expect(res.json()).toMatchObject({
        error: {
          code: 'CHORUS_INVALID_INPUT',
          issues: [
            {
              field,
              message:
                'a date (YYYY-MM-DD, in UTC), an ISO 8601 date-time with offset, or epoch milliseconds, from 1970 to 9999',
            },
          ],
        },
      });
    }
  });

  it('says to send the + of an offset as %2B, where the query string read it as a space', async () => {
    const res = await h.app.inject({
      url: '/v1/journeys/onboarding/report?from=2026-11-20T10:00:00+01:00',
      headers: h.auth,
    });
    expect(res.statusCode).toBe(400);
    expect(res.json().error.issues).toEqual([
      { field: 'querystring.from', message: expect.stringContaining('send it as %2B') as string },
    ]);
  });

  it('refuses a period that ends before it starts, and an unknown journey', async () => {
    const bad = await h.app.inject({
      url: '/v1/journeys/onboarding/report?from=2026-11-02T00:00:00Z&to=2026-11-01T00:00:00Z',
      headers: h.auth,
    });
    expect(bad.statusCode).toBe(400);
    expect(bad.json()).toMatchObject({ error: { issues: [{ field: 'querystring.from' }] } });
    // Longer than a year: the daily figures and the channels covered only its last 365 days.
    const long = await h.app.inject({
      url: '/v1/journeys/onboarding/report?from=2024-01-01&to=2025-12-31',
      headers: h.auth,
    });
    expect(long.statusCode).toBe(400);
    expect(long.json()).toMatchObject({
      error: {
        issues: [{ field: 'querystring.from', message: expect.stringContaining('at most 366') as string }],
      },
    });
    expect((await h.app.inject({ url: '/v1/journeys/nope/report', headers: h.auth })).statusCode).toBe(404);
  });
});

describe("a journey report's revenue and objective, counted per order and per entrant", () => {
  /** One instance per cart; an order converts every cart the customer has open. */
  const perCart = defineJourney({
    id: 'per-cart',
    version: 1,
    trigger: { event: 'Cart Created' },
    reentry: 'always',
    events: { 'Order Completed': z.object({ revenue: Revenue.optional() }).loose() },
    goal: { event: 'Order Completed', exit: true },
    objective: { metric: 'revenue', target: 1000, start: '2026-01-01', deadline: '2026-12-31' },
    machine: (j) =>
      j.createMachine({
        initial: 'open',
        states: {
          open: { tags: 'decision', after: { '7d': 'abandoned' } },
          abandoned: { tags: 'decision', type: 'final' },
        },
      }),
  });
  /** A conversion-rate objective that starts the day after the harness clock's. */
  const quarter = defineJourney({
    id: 'quarter',
    version: 1,
    trigger: { event: 'Joined' },
    events: { 'Order Completed': z.object({ revenue: Revenue.optional() }).loose() },
    goal: { event: 'Order Completed', exit: true },
    objective: { metric: 'conversion-rate', target: 0.6, start: '2026-11-24', deadline: '2027-02-28' },
    machine: (j) =>
      j.createMachine({
        initial: 'joined',
        states: {
          joined: { tags: 'awareness', after: { '30d': 'lapsed' } },
          lapsed: { tags: 'awareness', type: 'final' },
        },
      }),
  });
  let h: HttpHarness;
  beforeEach(async () => {
    h = await httpHarness({ journeys: [perCart, quarter] });
  });
  afterEach(() => h.close());

  const counts = async () =>
    (await h.app.inject({ url: '/v1/journeys/per-cart', headers: h.auth })).json<{
      entered: number;
      converted: number;
    }>();

  it("counts each order's revenue once, however many of the customer's instances it converted", async () => {
    // Ada opens two carts and places one order of 100; Bo opens one and orders for 30.
    for (const userId of ['ada', 'ada', 'bo']) {
      await h.engine.track({ userId, event: 'Cart Created' });
      h.clock.advance('1m');
    }
    await eventually(async () => (await counts()).entered === 3);
    await h.engine.track({ userId: 'ada', event: 'Order Completed', properties: { revenue: 100 } });
    await h.engine.track({ userId: 'bo', event: 'Order Completed', properties: { revenue: 30 } });
    await eventually(async () => (await counts()).converted === 3);
    h.clock.advance('1m');

    const report = (await h.app.inject({ url: '/v1/journeys/per-cart/report', headers: h.auth })).json<{
      converted: number;
      periodConversions: { count: number; revenue: number };
      attribution: { models: Record<string, { unattributed: { conversions: number; revenue: number } }> };
      objective: { actual: number };
    }>();
    // Three carts converted, by orders worth 130: not 230, Ada's order counted for each cart.
    expect(report.converted).toBe(3);
    expect(report.periodConversions).toEqual({ count: 3, revenue: 130 });
    expect(report.attribution.models['last-touch']!.unattributed).toEqual({ conversions: 3, revenue: 130 });
    expect(report.objective.actual).toBe(130);
  });

  it('reckons a conversion-rate objective over the customers who entered in its period', async () => {
    const entries = async () =>
      (await h.app.inject({ url: '/v1/journeys/quarter', headers: h.auth })).json<{
        entered: number;
        converted: number;
      }>();
    // Four join the day before the objective starts; two on its first day.
    for (const userId of ['old-1', 'old-2', 'old-3', 'old-4'])
      await h.engine.track({ userId, event: 'Joined' });
    await eventually(async () => (await entries()).entered === 4);
    h.clock.advance('1d');
    for (const userId of ['new-1', 'new-2']) await h.engine.track({ userId, event: 'Joined' });
    // On that first day three of the earlier four buy, and one of the two new.
    for (const userId of ['old-1', 'old-2', 'old-3', 'new-1'])
      await h.engine.track({ userId, event: 'Order Completed' });
    await eventually(async () => (await entries()).converted === 4);
    h.clock.advance('1m');

    const report = (await h.app.inject({ url: '/v1/journeys/quarter/report', headers: h.auth })).json<{
      objective: { actual: number; met: boolean };
    }>();
    // One of the period's two entrants converted: 50%, short of 60%; not 4 conversions over 2
    // entries, a rate of 200% that met the target on the first day.
    expect(report.objective).toMatchObject({ actual: 0.5, met: false });
  });
});
