import { describe, expect, it } from 'vitest';
import { CoreMessageCatalog, createJourneyHarness } from '../../engine/index.js';
import { WIN_BACK_COUPON, winBack } from '../../journeys/win-back.js';
import { winBackCustomerIn } from '../support/variants.js';

const messages = CoreMessageCatalog.fromDirectory('templates');
const inactive = { daysInactive: 75 };

describe('the win-back journey', () => {
  it('splits customers about 45/45/10 by id, and the same id always lands in the same arm', () => {
    const h = createJourneyHarness(winBack, { messages });
    const ids = Array.from({ length: 2000 }, (_, i) => `lapsed-${i}`);
    for (const id of ids) h.trigger('win-back', id, inactive);
    const counts: Record<string, number> = {};
    for (const id of ids) {
      const variant = h.instance(id)?.variants.offer ?? 'none';
      counts[variant] = (counts[variant] ?? 0) + 1;
    }
    expect(Object.keys(counts).sort()).toEqual(['coupon', 'holdout', 'letter']);
    expect(counts.coupon! / ids.length).toBeCloseTo(0.45, 1);
    expect(counts.letter! / ids.length).toBeCloseTo(0.45, 1);
    expect(counts.holdout! / ids.length).toBeGreaterThan(0.07);
    expect(counts.holdout! / ids.length).toBeLessThan(0.13);

    const again = createJourneyHarness(winBack, { messages });
    for (const id of ids.slice(0, 100)) again.trigger('win-back', id, inactive);
    for (const id of ids.slice(0, 100))
      expect(again.instance(id)?.variants).toEqual(h.instance(id)?.variants);
  });

  it('sends the coupon arm the letter with the code the caller gave, or the default one', () => {
    const h = createJourneyHarness(winBack, { messages });
    const named = winBackCustomerIn('coupon');
    const unnamed = winBackCustomerIn('coupon', 'other');
    h.trigger('win-back', named, { ...inactive, coupon: 'JASMINE20' });
    h.trigger('win-back', unnamed, inactive);
    expect(h.sent(named).map((s) => [s.message, s.channels, s.data, s.variants])).toEqual([
      ['win-back', ['email'], { coupon: 'JASMINE20' }, { offer: 'coupon' }],
    ]);
    expect(h.sent(unnamed)[0]?.data).toEqual({ coupon: WIN_BACK_COUPON });
  });

  it('sends the letter arm the same message without a code, and lapses after 14 days', () => {
    const h = createJourneyHarness(winBack, { messages });
    const id = winBackCustomerIn('letter');
    h.trigger('win-back', id, inactive);
    expect(h.sent(id).map((s) => [s.message, s.data])).toEqual([['win-back', {}]]);
    h.advance('14d');
    expect(h.instance(id)).toMatchObject({ status: 'done', exitReason: 'lapsed', stage: 'loyalty' });
  });

  it('sends the holdout nothing, yet records its orders, so the lift can be measured', () => {
    const h = createJourneyHarness(winBack, { messages });
    const quiet = winBackCustomerIn('holdout');
    const buyer = winBackCustomerIn('holdout', 'buyer');
    h.trigger('win-back', quiet, inactive);
    h.trigger('win-back', buyer, inactive);
    h.advance('3d');
    h.track(buyer, 'Order Completed', { revenue: 30 });
    h.advance('11d');
    expect(h.sent()).toEqual([]);
    expect(h.instance(quiet)).toMatchObject({
      state: 'lapsed',
      exitReason: 'lapsed',
      variants: { offer: 'holdout' },
    });
    expect(h.instance(buyer)).toMatchObject({
      status: 'done',
      exitReason: 'goal',
      convertedAt: h.clock.now() - 11 * 86_400_000,
    });
  });

  it('exits on the goal from an arm that was sent the letter, cancelling its timer', () => {
    const h = createJourneyHarness(winBack, { messages });
    const id = winBackCustomerIn('coupon');
    h.trigger('win-back', id, inactive);
    h.track(id, 'Order Completed', { order_id: 'o-9' });
    expect(h.instance(id)).toMatchObject({ status: 'done', exitReason: 'goal' });
    expect(h.pendingTimers(id)).toEqual([]);
  });

  it('does not enter a customer who has been inactive for less than 60 days', () => {
    const h = createJourneyHarness(winBack, { messages });
    h.trigger('win-back', 'recent', { daysInactive: 20 });
    expect(h.instances('recent')).toEqual([]);
    expect(h.notes('recent')[0]).toMatchObject({
      kind: 'rejected',
      reason: expect.stringContaining('daysInactive'),
    });
  });
});
