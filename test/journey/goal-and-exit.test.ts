import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createJourneyHarness, defineJourney } from '../../engine/index.js';

/** A journey whose goal is also an exit event, as "exit on purchase" and "convert on purchase" often are. */
const nurture = (goalExits: boolean) =>
  defineJourney({
    id: 'nurture',
    version: 1,
    trigger: { event: 'Signed Up' },
    events: { 'Order Completed': z.object({ revenue: z.number() }) },
    goal: { event: 'Order Completed', exit: goalExits },
    exitOn: ['Order Completed', 'Account Deleted'],
    machine: (j) =>
      j.createMachine({
        initial: 'nurturing',
        states: {
          nurturing: { tags: 'consideration', after: { '3d': 'lapsed' } },
          lapsed: { tags: 'consideration', type: 'final' },
        },
      }),
  });

describe('a goal event that is also listed in exitOn', () => {
  it.each([true, false])(
    'converts, with its revenue, before it ends the instance (goal exit: %s)',
    (goalExits) => {
      const h = createJourneyHarness(nurture(goalExits));
      h.track('ada', 'Signed Up');
      h.track('ada', 'Order Completed', { revenue: 42 });
      expect(h.instance('ada')).toMatchObject({
        status: 'done',
        exitReason: 'exit:Order Completed',
        convertedAt: h.clock.now(),
      });
      expect(h.notes('ada').filter((n) => n.kind === 'converted')).toEqual([
        expect.objectContaining({ instanceId: 'nurture.1', revenue: 42 }),
      ]);
      expect(h.pendingTimers('ada')).toEqual([]);
    },
  );

  it('still ends the instance when its properties do not match the schema, without converting', () => {
    const h = createJourneyHarness(nurture(true));
    h.track('bo', 'Signed Up');
    h.track('bo', 'Order Completed', { revenue: 'lots' });
    expect(h.instance('bo')).toMatchObject({ status: 'done', exitReason: 'exit:Order Completed' });
    // As the same goal is refused, converting nothing, when it is not an exit event.
    expect(h.instance('bo')?.convertedAt).toBeUndefined();
    expect(h.notes('bo').filter((n) => n.kind === 'converted')).toEqual([]);
  });

  it('leaves other exit events without a conversion', () => {
    const h = createJourneyHarness(nurture(true));
    h.track('cy', 'Signed Up');
    h.track('cy', 'Account Deleted');
    expect(h.instance('cy')).toMatchObject({ status: 'done', exitReason: 'exit:Account Deleted' });
    expect(h.instance('cy')?.convertedAt).toBeUndefined();
  });
});
