import { describe, expect, it } from 'vitest';
import { CoreMessageCatalog, createJourneyHarness, parseDuration } from '../../engine/index.js';
import { CART_COUPON, yueTeaLifecycle } from '../../journeys/yue-tea-lifecycle.js';

const messages = CoreMessageCatalog.fromDirectory('templates');

/** A harness with one customer signed up, with `traits`, at the start of the clock. */
function signedUp(traits: Record<string, unknown> = {}) {
  const h = createJourneyHarness(yueTeaLifecycle, { messages });
  h.identify('mei', { email: 'mei@example.com', ...traits });
  h.track('mei', 'Signed Up');
  const start = h.clock.now();
  /** What was sent, as [message, channels, stage, time since sign-up]. */
  const sends = () =>
    h.sent('mei').map((s) => [s.message, s.channels.join('+'), s.stage, s.at - start] as const);
  return { h, sends };
}

const DAY = parseDuration('1d');
const HOUR = parseDuration('1h');

describe('the Yue Tea lifecycle: awareness and consideration', () => {
  it('welcomes a sign-up by email at once and waits in awareness for a product view', () => {
    const { h, sends } = signedUp({ firstName: 'Mei' });
    expect(sends()).toEqual([['welcome', 'email', 'awareness', 0]]);
    expect(h.instance('mei')).toMatchObject({ state: 'welcomed', stage: 'awareness', status: 'active' });
  });

  it('spotlights the viewed product by email, carrying the event that names it', () => {
    const { h, sends } = signedUp();
    h.advance('1d');
    h.track('mei', 'Product Viewed', { name: 'Osmanthus Oolong', price: 18 });
    expect(sends()).toEqual([
      ['welcome', 'email', 'awareness', 0],
      ['product-spotlight', 'email', 'consideration', DAY],
    ]);
    expect(h.sent('mei')[1]?.event).toEqual({
      name: 'Product Viewed',
      properties: { name: 'Osmanthus Oolong', price: 18 },
    });
    expect(h.state('mei')).toBe('shopping');
  });

  it('spotlights by push too when the profile has a push token', () => {
    const { h, sends } = signedUp({ pushToken: 'fcm-token-1' });
    h.track('mei', 'Product Viewed', { name: 'Jasmine Pearl' });
    expect(sends().slice(1)).toEqual([
      ['product-spotlight', 'email', 'consideration', 0],
      ['product-spotlight', 'push', 'consideration', 0],
    ]);
  });

  it('nudges by SMS, falling back to email, after two days without a view when there is a phone', () => {
    const { h, sends } = signedUp({ phone: '+15550100' });
    h.advance('47h');
    expect(sends()).toHaveLength(1);
    h.advance('1h');
    expect(sends()).toEqual([
      ['welcome', 'email', 'awareness', 0],
      ['nudge', 'sms+email', 'consideration', 2 * DAY],
    ]);
    expect(h.state('mei')).toBe('shopping');
  });

  it('nudges by email when there is no phone', () => {
    for (const traits of [{}, { firstName: 'Mei' }]) {
      const { h, sends } = signedUp(traits);
      h.advance('2d');
      expect(sends().at(-1)).toEqual(['nudge', 'email', 'consideration', 2 * DAY]);
    }
  });

  it('exits as lapsed when nothing is added within three days of the spotlight or the nudge', () => {
    const viewed = signedUp();
    viewed.h.advance('1d');
    viewed.h.track('mei', 'Product Viewed', { name: 'Jasmine Pearl' });
    viewed.h.advance('71h');
    expect(viewed.h.instance('mei')?.status).toBe('active');
    viewed.h.advance('1h');
    expect(viewed.h.instance('mei')).toMatchObject({
      status: 'done',
      exitReason: 'lapsed',
      stage: 'consideration',
    });

    const nudged = signedUp();
    nudged.h.advance('5d');
    expect(nudged.h.instance('mei')).toMatchObject({ status: 'done', exitReason: 'lapsed' });
    expect(nudged.sends().map(([message]) => message)).toEqual(['welcome', 'nudge']);
    expect(nudged.h.pendingTimers('mei')).toEqual([]);
  });
});

describe('the Yue Tea lifecycle: decision', () => {
  it('sends the cart reminder with the coupon when no order follows an add within four hours', () => {
    const { h, sends } = signedUp();
    h.track('mei', 'Product Viewed', { name: 'Jasmine Pearl' });
    h.advance('1d');
    h.track('mei', 'Product Added', { name: 'Jasmine Pearl', quantity: 1 });
    expect(h.stage('mei')).toBe('decision');
    h.advance('3h59m');
    expect(sends().map(([message]) => message)).not.toContain('cart-reminder');
    h.advance('1m');
    expect(sends().at(-1)).toEqual(['cart-reminder', 'email', 'decision', DAY + 4 * HOUR]);
    expect(h.sent('mei').at(-1)?.data).toEqual({ coupon: CART_COUPON, product: 'Jasmine Pearl' });
    // Dropped if the order arrives while it still waits (quiet hours, a cap); the welcome is not.
    expect(h.sent('mei').at(-1)?.cancelOnGoal).toBe(true);
    expect(h.sent('mei')[0]).not.toHaveProperty('cancelOnGoal');
    h.advance('3d');
    expect(h.instance('mei')).toMatchObject({ status: 'done', exitReason: 'abandoned', stage: 'decision' });
  });

  it('takes an add straight after the welcome or after a nudge into the decision stage', () => {
    const early = signedUp();
    early.h.track('mei', 'Product Added', { name: 'Goji Rooibos' });
    expect(early.h.instance('mei')).toMatchObject({ state: 'carted', stage: 'decision' });

    const late = signedUp();
    late.h.advance('2d');
    late.h.advance('2d');
    late.h.track('mei', 'Product Added', {});
    late.h.advance('4h');
    expect(late.sends().map(([message]) => message)).toEqual(['welcome', 'nudge', 'cart-reminder']);
  });

  it('sends no reminder when the order completes within four hours of the add', () => {
    const { h, sends } = signedUp();
    h.track('mei', 'Product Added', { name: 'Jasmine Pearl' });
    h.advance('2h');
    h.track('mei', 'Order Completed', { revenue: 24 });
    h.advance('1d');
    expect(sends().map(([message]) => message)).toEqual(['welcome', 'thank-you']);
    expect(h.stage('mei')).toBe('loyalty');
  });
});

describe('the Yue Tea lifecycle: goal and loyalty', () => {
  const beforeLoyalty: Record<string, (h: ReturnType<typeof signedUp>['h']) => void> = {
    welcomed: () => {},
    shopping: (h) => h.track('mei', 'Product Viewed', { name: 'Jasmine Pearl' }),
    'shopping after the nudge': (h) => h.advance('2d'),
    carted: (h) => h.track('mei', 'Product Added', { name: 'Jasmine Pearl' }),
    reminded: (h) => {
      h.track('mei', 'Product Added', { name: 'Jasmine Pearl' });
      h.advance('5h');
    },
  };

  for (const [from, reach] of Object.entries(beforeLoyalty)) {
    it(`moves a customer who orders in ${from} to loyalty: thanks, a review request at +7d, a refill at +30d`, () => {
      const { h, sends } = signedUp();
      reach(h);
      const ordered = h.clock.now();
      const before = sends().length;
      h.track('mei', 'Order Completed', { order_id: 'o-1', revenue: 36 });
      expect(h.instance('mei')).toMatchObject({ state: 'thanked', stage: 'loyalty', convertedAt: ordered });
      h.advance('30d');
      const start = h.sent('mei')[0]!.at;
      expect(sends().slice(before)).toEqual([
        ['thank-you', 'email', 'loyalty', ordered - start],
        ['review-request', 'email', 'loyalty', ordered - start + 7 * DAY],
        ['replenish', 'email', 'loyalty', ordered - start + 30 * DAY],
      ]);
      expect(h.instance('mei')).toMatchObject({ status: 'done', exitReason: 'completed', stage: 'loyalty' });
      expect(h.pendingTimers('mei')).toEqual([]);
    });
  }

  it('does not thank again for a second order during loyalty, nor welcome a second sign-up', () => {
    const { h, sends } = signedUp();
    h.track('mei', 'Order Completed', { revenue: 20 });
    h.advance('3d');
    h.track('mei', 'Order Completed', { revenue: 12 });
    h.advance('40d');
    h.track('mei', 'Signed Up');
    expect(sends().map(([message]) => message)).toEqual([
      'welcome',
      'thank-you',
      'review-request',
      'replenish',
    ]);
    expect(h.instances('mei')).toHaveLength(1);
  });
});
