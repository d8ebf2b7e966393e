import { describe, expect, it } from 'vitest';
import { experimentReport, InvalidInputError, type ExperimentGroup } from '../../engine/index.js';

// Control A converts 100 of 1000, B 130 of 1000, C 90 of 1000; a holdout that got nothing, 40 of 500.
const groups: ExperimentGroup[] = [
  { variant: 'A', entered: 1000, converted: 100 },
  { variant: 'B', entered: 1000, converted: 130 },
  { variant: 'C', entered: 1000, converted: 90 },
  { variant: 'holdout', entered: 500, converted: 40, holdout: true },
];

describe('experimentReport', () => {
  const report = experimentReport(groups, { control: 'A' });
  const row = (variant: string) => report.variants.find((v) => v.variant === variant)!;

  it('gives every group its conversion rate and marks control and holdout', () => {
    expect(report.variants.map((v) => [v.variant, v.rate, v.control, v.holdout])).toEqual([
      ['A', 0.1, true, false],
      ['B', 0.13, false, false],
      ['C', 0.09, false, false],
      ['holdout', 0.08, false, true],
    ]);
    expect(row('A').vsControl).toBeNull();
    expect(row('holdout').vsControl).toBeNull();
  });

  it('finds B better than control, significant at 0.05', () => {
    // As in the significance tests: lift 0.03/0.10 = 0.3; pooled 0.115, SE 0.0142671, z 2.102741,
    // p 0.035488 < 0.05; 95% interval (0.0020679, 0.0579321).
    expect(row('B').vsControl).toMatchObject({
      relativeLift: expect.closeTo(0.3, 12) as number,
      z: expect.closeTo(2.102741, 6) as number,
      pValue: expect.closeTo(0.035488, 6) as number,
      significant: true,
      confidenceInterval: { lower: expect.closeTo(0.0020679, 7) as number, level: 0.95 },
    });
  });

  it('finds C worse than control but not significantly', () => {
    // lift −0.01/0.10 = −0.1; pooled 190/2000 = 0.095; SE = √(0.095 · 0.905 · 2/1000) = 0.0131130;
    // z = −0.01/0.0131130 = −0.762604; p = 2(1 − Φ(0.762604)) = 0.445700.
    expect(row('C').vsControl).toMatchObject({
      relativeLift: expect.closeTo(-0.1, 12) as number,
      z: expect.closeTo(-0.762604, 6) as number,
      pValue: expect.closeTo(0.4457, 5) as number,
      significant: false,
    });
  });

  it('measures the journey against no journey: every treated variant pooled against the holdout', () => {
    // treated: (100 + 130 + 90)/3000 = 0.1066667; holdout 40/500 = 0.08; difference 0.0266667;
    // lift 0.0266667/0.08 = 1/3. pooled 360/3500 = 0.1028571;
    // SE = √(0.1028571 · 0.8971429 · (1/3000 + 1/500)) = 0.0146736; z = 1.817324; p = 0.069168.
    // The unpooled interval (0.000447, 0.052886) just excludes 0 while p > 0.05: the test's pooled
    // SE (0.014674) is larger than the interval's unpooled one (0.013378), so near the edge they differ.
    expect(report.journeyLift).toMatchObject({
      controlRate: 0.08,
      treatmentRate: expect.closeTo(0.1066667, 7) as number,
      relativeLift: expect.closeTo(1 / 3, 12) as number,
      z: expect.closeTo(1.817324, 6) as number,
      pValue: expect.closeTo(0.069168, 6) as number,
      significant: false,
      confidenceInterval: {
        lower: expect.closeTo(0.000447, 6) as number,
        upper: expect.closeTo(0.052886, 6) as number,
      },
    });
  });

  it('calls the journey lift significant at alpha 0.1, with a 90% interval', () => {
    const lenient = experimentReport(groups, { control: 'A', alpha: 0.1 });
    // p 0.069168 < 0.1; margin 1.644854 · 0.0133777 = 0.0220044 → (0.0046623, 0.0486711).
    expect(lenient.journeyLift).toMatchObject({
      significant: true,
      confidenceInterval: { lower: expect.closeTo(0.0046623, 6) as number, level: 0.9 },
    });
  });

  it('reports no journey lift without a holdout, and no comparison for an empty variant', () => {
    const report = experimentReport(
      [
        { variant: 'A', entered: 10, converted: 1 },
        { variant: 'B', entered: 0, converted: 0 },
      ],
      { control: 'A' },
    );
    expect(report.journeyLift).toBeNull();
    expect(report.variants[1]).toMatchObject({ rate: null, vsControl: null });
  });

  it('judges a handful of customers by the exact test, not by a z-test that does not hold for them', () => {
    // 3 of 3 against 0 of 3: the z-test says p = 0.014, Fisher's exact test 0.1.
    const tiny = experimentReport(
      [
        { variant: 'A', entered: 3, converted: 0 },
        { variant: 'B', entered: 3, converted: 3 },
        { variant: 'holdout', entered: 3, converted: 0, holdout: true },
      ],
      { control: 'A' },
    );
    expect(tiny.variants[1]!.vsControl).toMatchObject({ approximationReliable: false, significant: false });
    expect(tiny.variants[1]!.vsControl!.pValue).toBeCloseTo(0.0143, 4);
    expect(tiny.variants[1]!.vsControl!.exactPValue).toBeCloseTo(0.1, 10);
    // Small but clear: 20 of 40 against 38 of 40 (exact p 8.3e-6) is still significant.
    const clear = experimentReport(
      [
        { variant: 'A', entered: 40, converted: 20 },
        { variant: 'B', entered: 40, converted: 38 },
      ],
      { control: 'A' },
    );
    expect(clear.variants[1]!.vsControl).toMatchObject({ approximationReliable: false, significant: true });
    // A test the approximation holds for has no exact p-value.
    expect(row('B').vsControl).toMatchObject({ approximationReliable: true, exactPValue: null });
  });

  it('refuses a control that is missing or a holdout, and a variant listed twice', () => {
    expect(() => experimentReport(groups, { control: 'Z' })).toThrow(InvalidInputError);
    expect(() => experimentReport(groups, { control: 'holdout' })).toThrow(
      /not a variant that receives the journey/,
    );
    expect(() => experimentReport([...groups, groups[0]!], { control: 'A' })).toThrow(/"A" is listed twice/);
    expect(() => experimentReport(groups, { control: 'A', alpha: 5 })).toThrow(InvalidInputError);
  });
});
