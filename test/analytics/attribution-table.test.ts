import { describe, expect, it } from 'vitest';
import { attributionTable, type ConversionPath, type CreditTotals } from '../../engine/index.js';

const DAY = 86_400_000;

// A: welcome email day 0, push reminder day 7, sms offer day 14; bought for 100 on day 14.
// B: email offer day 3, sms offer day 10; bought for 60 on day 10.
// C: one email on day 0; bought for 30 on day 40, beyond the 30-day window: unattributed.
const paths: ConversionPath[] = [
  {
    conversion: { at: 14 * DAY, revenue: 100, customerId: 'a' },
    touchpoints: [
      { at: 0, channel: 'email', message: 'welcome' },
      { at: 7 * DAY, channel: 'push', message: 'reminder' },
      { at: 14 * DAY, channel: 'sms', message: 'offer' },
    ],
  },
  {
    conversion: { at: 10 * DAY, revenue: 60, customerId: 'b' },
    touchpoints: [
      { at: 3 * DAY, channel: 'email', message: 'offer' },
      { at: 10 * DAY, channel: 'sms', message: 'offer' },
    ],
  },
  {
    conversion: { at: 40 * DAY, revenue: 30, customerId: 'c' },
    touchpoints: [{ at: 0, channel: 'email', message: 'welcome' }],
  },
];

const table = attributionTable(paths, { windowMs: 30 * DAY, halfLifeMs: 7 * DAY });

function expectTotals(
  actual: Record<string, CreditTotals>,
  expected: Record<string, [number, number]>,
): void {
  expect(Object.keys(actual)).toEqual(Object.keys(expected));
  for (const [key, [conversions, revenue]] of Object.entries(expected)) {
    expect(actual[key]!.conversions, `${key} conversions`).toBeCloseTo(conversions, 10);
    expect(actual[key]!.revenue, `${key} revenue`).toBeCloseTo(revenue, 10);
  }
}

describe('attributionTable', () => {
  it('credits first touch: A to the welcome email, B to the email offer', () => {
    expectTotals(table['first-touch'].byChannel, { email: [2, 160] });
    expectTotals(table['first-touch'].byMessage, { offer: [1, 60], welcome: [1, 100] });
  });

  it('credits last touch: both to the sms offer', () => {
    expectTotals(table['last-touch'].byChannel, { sms: [2, 160] });
    expectTotals(table['last-touch'].byMessage, { offer: [2, 160] });
  });

  it('credits linear: A in thirds, B in halves', () => {
    // email 1/3 + 1/2 = 5/6, revenue 100/3 + 60/2 = 63.33; push 1/3, 33.33;
    // sms 1/3 + 1/2 = 5/6, 63.33. Messages: offer 1/3 + 1/2 + 1/2 = 4/3, 100/3 + 60 = 93.33.
    expectTotals(table.linear.byChannel, {
      email: [5 / 6, 100 / 3 + 30],
      push: [1 / 3, 100 / 3],
      sms: [5 / 6, 100 / 3 + 30],
    });
    expectTotals(table.linear.byMessage, {
      offer: [4 / 3, 100 / 3 + 60],
      reminder: [1 / 3, 100 / 3],
      welcome: [1 / 3, 100 / 3],
    });
  });

  it('credits time decay with a 7-day half-life', () => {
    // A: ages 14d, 7d, 0d → 1/7, 2/7, 4/7. B: ages 7d, 0d → weights 0.5, 1 → 1/3, 2/3.
    // email 1/7 + 1/3 = 10/21, revenue 100/7 + 20; push 2/7, 200/7; sms 4/7 + 2/3 = 26/21, 400/7 + 40.
    expectTotals(table['time-decay'].byChannel, {
      email: [10 / 21, 100 / 7 + 20],
      push: [2 / 7, 200 / 7],
      sms: [26 / 21, 400 / 7 + 40],
    });
    // offer: 4/7 (A's sms) + 1/3 + 2/3 (B) = 11/7, revenue 400/7 + 60.
    expectTotals(table['time-decay'].byMessage, {
      offer: [11 / 7, 400 / 7 + 60],
      reminder: [2 / 7, 200 / 7],
      welcome: [1 / 7, 100 / 7],
    });
  });

  it('credits position-based: A 40/20/40, B 50/50', () => {
    // email 0.4 + 0.5 = 0.9, revenue 40 + 30 = 70; push 0.2, 20; sms 0.4 + 0.5 = 0.9, 70.
    expectTotals(table['position-based'].byChannel, { email: [0.9, 70], push: [0.2, 20], sms: [0.9, 70] });
    expectTotals(table['position-based'].byMessage, {
      offer: [1.4, 100],
      reminder: [0.2, 20],
      welcome: [0.4, 40],
    });
  });

  it('reports C as unattributed under every model, and every model adds up to 3 conversions and 190', () => {
    for (const model of Object.values(table)) {
      expect(model.unattributed).toEqual({ conversions: 1, revenue: 30 });
      const rows = Object.values(model.byChannel);
      expect(
        rows.reduce((sum, row) => sum + row.conversions, 0) + model.unattributed.conversions,
      ).toBeCloseTo(3, 12);
      expect(rows.reduce((sum, row) => sum + row.revenue, 0) + model.unattributed.revenue).toBeCloseTo(
        190,
        10,
      );
    }
  });

  it('answers empty rows for no conversions', () => {
    expect(attributionTable([], { windowMs: DAY }).linear).toEqual({
      byChannel: {},
      byMessage: {},
      unattributed: { conversions: 0, revenue: 0 },
    });
  });
});
