import { z } from 'zod';
import { afterEach, describe, expect, it } from 'vitest';
import { createEngine, defineJourney } from '../../engine/index.js';
import { DASHBOARD, httpHarness, type HttpHarness } from '../support/http.js';
import { eventually } from '../support/redis.js';

/** v1 parks its customers in `legacy`, a state v2 no longer has; v2 starts in `welcome`. */
function version(v: 1 | 2) {
  return defineJourney({
    id: 'renamed',
    version: v,
    trigger: { event: 'Start' },
    events: { Go: z.object({}) },
    machine: (j) =>
      j.createMachine({
        initial: v === 1 ? 'legacy' : 'welcome',
        states: {
          ...(v === 1
            ? { legacy: { tags: 'consideration', on: { Go: 'done' } } }
            : { welcome: { tags: 'awareness', on: { Go: 'done' } } }),
          done: { tags: 'decision', type: 'final' },
        },
      }),
  });
}

type Listed = { states: Array<{ state: string; stage: string; customers: number; versions?: number[] }> };

describe('GET /v1/journeys while customers are in an older version', () => {
  let h: HttpHarness | undefined;
  afterEach(async () => {
    await h?.close();
    h = undefined;
  });

  /** The API on `journeys`, with two customers entered while only v1 was deployed. */
  async function twoInVersionOne(journeys: Parameters<typeof httpHarness>[0]['journeys']) {
    const api = await httpHarness({ journeys, workers: false });
    h = api;
    const before = createEngine({
      redis: api.redis,
      prefix: api.prefix,
      journeys: [version(1)],
      messages: { has: () => true },
    });
    before.startWorkers({ deliveries: false });
    try {
      for (const userId of ['early-1', 'early-2']) await before.track({ userId, event: 'Start' });
      // Until both count, which on a Cluster is just after their commit.
      return await eventually(async () => {
        const res = await api.app.inject({ url: '/v1/journeys', headers: api.auth });
        expect(res.statusCode).toBe(200);
        const [journey] = res.json<{ journeys: Array<Listed & { stages: Record<string, number> }> }>()
          .journeys;
        return journey?.stages.consideration === 2 ? journey : undefined;
      });
    } finally {
      await before.close();
    }
  }

  it('lists the state only the older version has, with its customers, stage and version', async () => {
    const journey = await twoInVersionOne([version(1), version(2)]);
    expect(journey.stages).toEqual({ consideration: 2 });
    expect(journey.states).toEqual([
      { state: 'welcome', stage: 'awareness', customers: 0 },
      { state: 'done', stage: 'decision', customers: 0 },
      { state: 'legacy', stage: 'consideration', customers: 2, versions: [1] },
    ]);
  });

  it('names those states under the journey page’s diagram, which draws the latest version only', async () => {
    await twoInVersionOne([version(1), version(2)]);
    const basic = `Basic ${Buffer.from(`${DASHBOARD.user}:${DASHBOARD.password}`).toString('base64')}`;
    const res = await h!.app.inject({ url: '/admin/journeys/renamed', headers: { authorization: basic } });
    expect(res.statusCode).toBe(200);
    expect(res.body).toContain('Also in states only other versions have (not drawn): legacy 2.');
  });

  it('still lists the customers when their version is no longer loaded, with the stage unknown', async () => {
    const journey = await twoInVersionOne([version(2)]);
    expect(journey.states.find((s) => s.state === 'legacy')).toEqual({
      state: 'legacy',
      stage: 'unknown',
      customers: 2,
      versions: [1],
    });
  });
});
