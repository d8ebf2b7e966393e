import { describe, expect, it } from 'vitest';
import { InvalidInputError, objectiveProgress, parseObjective, type Objective } from '../../engine/index.js';

// 1 October to the end of 29 December 2026: 31 + 30 + 29 = 90 days.
const conversions: Objective = {
  metric: 'conversions',
  target: 300,
  start: '2026-10-01',
  deadline: '2026-12-29',
};
const midNovember = Date.parse('2026-11-15T00:00:00Z'); // 31 + 14 = 45 days in: halfway

describe('objectiveProgress', () => {
  it('paces a total linearly: halfway through, 140 of 300 is behind the expected 150', () => {
    // expected = 300 · 45/90 = 150; ratio = 140/300 = 0.4667; 90 − 45 = 45 days left.
    expect(objectiveProgress(conversions, 140, midNovember)).toEqual({
      metric: 'conversions',
      actual: 140,
      target: 300,
      ratio: expect.closeTo(0.466667, 6) as number,
      expected: 150,
      onTrack: false,
      met: false,
      daysLeft: 45,
    });
    expect(objectiveProgress(conversions, 160, midNovember).onTrack).toBe(true);
  });

  it('paces revenue the same way: a third of the way, 31,000 of 90,000 is ahead of 30,000', () => {
    const revenue: Objective = { ...conversions, metric: 'revenue', target: 90_000 };
    // 31 October 00:00 is 30 days in: 30/90 = 1/3 → expected 90,000/3 = 30,000; 60 days left.
    const progress = objectiveProgress(revenue, 31_000, Date.parse('2026-10-31T00:00:00Z'));
    expect(progress).toMatchObject({ expected: 30_000, onTrack: true, met: false, daysLeft: 60 });
    expect(progress.ratio).toBeCloseTo(31_000 / 90_000, 12);
  });

  it('judges a conversion rate against its target at any time, not a pace', () => {
    const rate: Objective = { ...conversions, metric: 'conversion-rate', target: 0.15 };
    // 0.12 / 0.15 = 0.8 of the target, already expected in full.
    expect(objectiveProgress(rate, 0.12, midNovember)).toMatchObject({
      ratio: expect.closeTo(0.8, 12) as number,
      expected: 0.15,
      onTrack: false,
    });
    expect(objectiveProgress(rate, 0.16, midNovember)).toMatchObject({ onTrack: true, met: true });
  });

  it('keeps the whole deadline day: a part day left counts as one, none once it has passed', () => {
    expect(objectiveProgress(conversions, 290, Date.parse('2026-12-29T18:00:00Z'))).toMatchObject({
      daysLeft: 1,
      // 89.75 of 90 days: expected 300 · 89.75/90 = 299.1667.
      expected: expect.closeTo(299.166667, 6) as number,
      onTrack: false,
    });
    expect(objectiveProgress(conversions, 290, Date.parse('2027-01-05T00:00:00Z'))).toMatchObject({
      daysLeft: 0,
      expected: 300,
      met: false,
    });
    expect(objectiveProgress(conversions, 0, Date.parse('2026-09-01T00:00:00Z'))).toMatchObject({
      expected: 0,
      onTrack: true,
      daysLeft: 120, // 30 (Sep) + 90
    });
  });

  it('takes an exact instant with an offset as the deadline', () => {
    // 2026-10-02T12:00+02:00 is 10:00 UTC: 34 h after the start, 10 h of it still ahead at midnight.
    const short: Objective = { ...conversions, deadline: '2026-10-02T12:00:00+02:00' };
    expect(objectiveProgress(short, 0, Date.parse('2026-10-02T00:00:00Z'))).toMatchObject({
      daysLeft: 1,
      expected: expect.closeTo((300 * 24) / 34, 9) as number,
    });
  });
});

describe('parseObjective', () => {
  it('reads a SMART objective', () => {
    expect(parseObjective(conversions)).toEqual(conversions);
  });

  it('names each field it refuses', () => {
    expect(() => parseObjective({ ...conversions, metric: 'clicks' })).toThrow(InvalidInputError);
    expect(() => parseObjective({ ...conversions, deadline: '2026-09-30' })).toThrow(
      /deadline: must be after start/,
    );
    expect(() => parseObjective({ ...conversions, metric: 'conversion-rate', target: 15 })).toThrow(
      /target: a conversion-rate/,
    );
    expect(() => parseObjective({ ...conversions, deadline: 'next Friday' })).toThrow(/deadline/);
    expect(() => parseObjective({ ...conversions, target: 0 })).toThrow(/target/);
  });
});
