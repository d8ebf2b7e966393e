import { describe, expect, it } from 'vitest';
import { readDailyJourneyCounts } from '../../engine/index.js';
import { engineEachTest } from '../support/engine.js';
import { eventually } from '../support/redis.js';
import { customerInVariant } from '../support/variants.js';

describe("a journey's counts per day", () => {
  const h = engineEachTest();

  it('counts every state an event led to, also when the worker applied several events at once', async () => {
    const id = customerInVariant('tips', 'daily');
    // Both wait in the inbox before a worker runs: it applies them in one batch.
    await h.engine.track({ userId: id, event: 'Signed Up' });
    await h.engine.track({ userId: id, event: 'Product Viewed', properties: { name: 'Sencha' } });
    h.engine.startWorkers({ deliveries: false });
    await eventually(
      async () => (await h.engine.customer(id)).instances[0]?.state === 'interested',
      10_000,
      'both events to be applied',
    );
    const now = Date.now();
    const [today] = await readDailyJourneyCounts(h.ctx.redis, h.ctx.prefix, 'onboarding', now, now);
    // As when each event is applied on its own: the sign-up led to browsing, the view to interested.
    expect(today).toMatchObject({
      entered: 1,
      states: { browsing: 1, interested: 1 },
      stages: { consideration: 1, decision: 1 },
    });
  });
});
