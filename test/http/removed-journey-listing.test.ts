import { afterEach, describe, expect, it } from 'vitest';
import { createEngine, defineJourney, type Journey } from '../../engine/index.js';
import { DASHBOARD, httpHarness, type HttpHarness } from '../support/http.js';
import { eventually } from '../support/redis.js';

/** Parks its customers in `waiting`. */
const parking = (id: string): Journey =>
  defineJourney({
    id,
    version: 3,
    trigger: { event: 'Start' },
    machine: (j) => j.createMachine({ initial: 'waiting', states: { waiting: { tags: 'consideration' } } }),
  });

/** Ends as it starts: no customer stays in it. */
const passing = defineJourney({
  id: 'passing',
  version: 1,
  trigger: { event: 'Start' },
  machine: (j) => j.createMachine({ initial: 'over', states: { over: { tags: 'decision', type: 'final' } } }),
});

const kept = parking('kept');
const dropped = parking('dropped');

type Listed = {
  id: string;
  version: number;
  loaded: boolean;
  lastLoadedAt?: string;
  trigger?: unknown;
  stages: Record<string, number>;
  states: Array<{ state: string; stage: string; customers: number; versions?: number[] }>;
};

describe('GET /v1/journeys after a journey was removed from the code', () => {
  let h: HttpHarness | undefined;
  afterEach(async () => {
    await h?.close();
    h = undefined;
  });

  /** The API of the release without `dropped`, after the release before entered two customers. */
  async function afterRemoval(): Promise<HttpHarness> {
    const api = await httpHarness({ journeys: [kept], workers: false });
    h = api;
    const before = createEngine({
      redis: api.redis,
      prefix: api.prefix,
      journeys: [kept, dropped, passing],
      messages: { has: () => true },
    });
    before.startWorkers({ deliveries: false });
    try {
      for (const userId of ['ada', 'bo']) await before.track({ userId, event: 'Start' });
      await eventually(async () => {
        const customers = await Promise.all(['ada', 'bo'].map((userId) => before.customer(userId)));
        return customers.every((customer) => customer.instances.length === 3 && customer.pendingEvents === 0);
      });
    } finally {
      await before.close();
    }
    return api;
  }

  const listed = async (api: HttpHarness) => {
    // On a Cluster the counts follow the commit: until both customers count in `dropped`.
    return eventually(async () => {
      const res = await api.app.inject({ url: '/v1/journeys', headers: api.auth });
      expect(res.statusCode).toBe(200);
      const { journeys } = res.json<{ journeys: Listed[] }>();
      return journeys.find((j) => j.id === 'dropped')?.stages.consideration === 2 ? journeys : undefined;
    });
  };

  it('lists the journey no longer loaded while customers are still in it, marked loaded: false', async () => {
    const api = await afterRemoval();
    const journeys = await listed(api);
    expect(journeys.map((j) => [j.id, j.loaded])).toEqual([
      ['kept', true],
      ['dropped', false],
    ]);
    const removed = journeys.find((j) => j.id === 'dropped')!;
    expect(removed).toMatchObject({
      version: 3,
      stages: { consideration: 2 },
      states: [{ state: 'waiting', stage: 'unknown', customers: 2, versions: [3] }],
    });
    expect(removed.trigger).toBeUndefined();
    expect(Math.abs(Date.parse(removed.lastLoadedAt!) - Date.now())).toBeLessThan(60_000);

    const one = await api.app.inject({ url: '/v1/journeys/dropped', headers: api.auth });
    expect(one.statusCode).toBe(200);
    expect(one.json()).toMatchObject({ id: 'dropped', loaded: false, stages: { consideration: 2 } });
    // A journey with no customer left in it (`passing`) is not listed, and one never seen is not found.
    const unknown = await api.app.inject({ url: '/v1/journeys/never-was', headers: api.auth });
    expect(unknown.statusCode).toBe(404);
  });

  it('shows it on the dashboard’s journey list with its customers', async () => {
    const api = await afterRemoval();
    await listed(api);
    const basic = `Basic ${Buffer.from(`${DASHBOARD.user}:${DASHBOARD.password}`).toString('base64')}`;
    const res = await api.app.inject({ url: '/admin/journeys', headers: { authorization: basic } });
    expect(res.statusCode).toBe(200);
    expect(res.body).toContain('Not loaded here, customers still in them');
    expect(res.body).toMatch(
      /<li>dropped — 2 customers still in it <span class="muted">\(last loaded by a process at /,
    );
    expect(res.body).not.toContain('passing');
  });
});
