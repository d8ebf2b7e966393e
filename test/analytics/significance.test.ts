import { describe, expect, it } from 'vitest';
import { InvalidInputError, twoProportionTest } from '../../engine/index.js';

describe('twoProportionTest', () => {
  it('reproduces the textbook aspirin example: difference 0.0077, SE 0.0015, 95% CI (0.005, 0.011)', () => {
    // Agresti, An Introduction to Categorical Data Analysis, 2nd ed. (2007), §2.2.3 and Table 2.3:
    // the Physicians' Health Study, myocardial infarction in 189 of 11,034 on placebo and 104 of
    // 11,037 on aspirin. Published: proportions 0.0171 and 0.0094, difference 0.0077, estimated
    // standard error 0.0015, 95% interval 0.0077 ± 1.96(0.0015) = (0.005, 0.011).
    // Aspirin goes in as "control" so that the difference is the book's placebo − aspirin.
    const result = twoProportionTest(
      { entered: 11_037, converted: 104 },
      { entered: 11_034, converted: 189 },
    );
    expect(result.treatmentRate).toBeCloseTo(0.0171, 4);
    expect(result.controlRate).toBeCloseTo(0.0094, 4);
    expect(result.difference).toBeCloseTo(0.0077, 4);
    expect((result.confidenceInterval.upper - result.difference) / 1.96).toBeCloseTo(0.0015, 4);
    expect(result.confidenceInterval.lower).toBeCloseTo(0.005, 3);
    expect(result.confidenceInterval.upper).toBeCloseTo(0.011, 3);
    // By hand: pooled p = 293/22,071 = 0.0132753; SE = √(0.0132753 · 0.9867247 · (1/11,037 + 1/11,034))
    // = 0.00154078; z = 0.00770602 / 0.00154078 = 5.0014 (z² = 25.01, the table's Pearson X²);
    // p = 2(1 − Φ(5.0014)) = 5.692e-7.
    expect(result.z).toBeCloseTo(5.0014, 4);
    expect(result.pValue / 5.692e-7).toBeCloseTo(1, 3);
    expect(result.approximationReliable).toBe(true);
  });

  it('matches a hand computation: 100/1000 against 130/1000', () => {
    const result = twoProportionTest({ entered: 1000, converted: 100 }, { entered: 1000, converted: 130 });
    // rates 0.10 and 0.13; difference 0.03; lift 0.03 / 0.10 = 0.3.
    expect(result.controlRate).toBe(0.1);
    expect(result.treatmentRate).toBe(0.13);
    expect(result.difference).toBeCloseTo(0.03, 15);
    expect(result.relativeLift).toBeCloseTo(0.3, 14);
    // pooled p = 230/2000 = 0.115; SE = √(0.115 · 0.885 · 2/1000) = √0.00020355 = 0.01426710;
    // z = 0.03 / 0.01426710 = 2.102741; p = 2(1 − Φ(2.102741)) = 0.035488.
    expect(result.z).toBeCloseTo(2.102741, 6);
    expect(result.pValue).toBeCloseTo(0.035488, 6);
    // unpooled SE = √(0.1 · 0.9/1000 + 0.13 · 0.87/1000) = √0.0002031 = 0.01425132;
    // margin = 1.959964 · 0.01425132 = 0.0279321 → (0.0020679, 0.0579321).
    expect(result.confidenceInterval).toEqual({
      lower: expect.closeTo(0.0020679, 7) as number,
      upper: expect.closeTo(0.0579321, 7) as number,
      level: 0.95,
    });
  });

  it('widens the interval with the confidence level: 99% uses 2.575829', () => {
    const result = twoProportionTest(
      { entered: 1000, converted: 100 },
      { entered: 1000, converted: 130 },
      { confidence: 0.99 },
    );
    // margin = 2.575829 · 0.01425132 = 0.0367090 → (−0.0067090, 0.0667090): now spans 0.
    expect(result.confidenceInterval.lower).toBeCloseTo(-0.006709, 6);
    expect(result.confidenceInterval.upper).toBeCloseTo(0.066709, 6);
    expect(result.confidenceInterval.level).toBe(0.99);
  });

  it('flags the normal approximation as unreliable when a cell is below 5', () => {
    // 3 conversions in the control: n·p = 3 < 5.
    const result = twoProportionTest({ entered: 40, converted: 3 }, { entered: 40, converted: 9 });
    expect(result.approximationReliable).toBe(false);
    // Likewise 38 of 40 converting leaves 2 < 5 non-conversions in the treatment.
    expect(
      twoProportionTest({ entered: 40, converted: 20 }, { entered: 40, converted: 38 }).approximationReliable,
    ).toBe(false);
  });

  it("gives Fisher's exact two-sided p-value where the approximation is unreliable, and only there", () => {
    // Checked against the hypergeometric sums in exact arithmetic.
    const exact = (control: [number, number], treatment: [number, number]) =>
      twoProportionTest(
        { entered: control[0], converted: control[1] },
        { entered: treatment[0], converted: treatment[1] },
      ).exactPValue;
    expect(exact([3, 0], [3, 3])).toBeCloseTo(0.1, 12);
    expect(exact([40, 3], [40, 9])).toBeCloseTo(0.114888069, 8);
    expect(exact([40, 20], [40, 38])! / 8.334442818832e-6).toBeCloseTo(1, 9);
    expect(exact([1000, 1], [1000, 6])).toBeCloseTo(0.124343423, 8);
    expect(exact([5, 5], [5, 5])).toBe(1);
    expect(exact([1000, 100], [1000, 130])).toBeNull();
  });

  it('answers z 0, p 1 and no relative lift when nobody converts in either group', () => {
    const result = twoProportionTest({ entered: 50, converted: 0 }, { entered: 50, converted: 0 });
    expect(result).toMatchObject({ difference: 0, relativeLift: null, z: 0, pValue: 1 });
    // Nobody of 50 converting does not pin either rate at exactly 0%: the difference is not known
    // to be 0, and the interval is not [0, 0] (Agresti–Caffo: ±1.96 √(2 · (1/52)(51/52) / 52)).
    expect(result.confidenceInterval.lower).toBeCloseTo(-0.05277, 4);
    expect(result.confidenceInterval.upper).toBeCloseTo(0.05277, 4);
  });

  it('gives a handful of customers an interval as wide as what they leave open, not one point', () => {
    // 3 of 3 against 0 of 3: the observed difference is 100 points, but six customers cannot rule
    // out much smaller ones. The Wald interval's error is 0 here, and it claimed [1, 1].
    const result = twoProportionTest({ entered: 3, converted: 0 }, { entered: 3, converted: 3 });
    expect(result.difference).toBe(1);
    expect(result.confidenceInterval.lower).toBeCloseTo(0.6 - 1.959964 * Math.sqrt(0.064), 5);
    // Never past what a difference of two rates can be.
    expect(result.confidenceInterval.upper).toBe(1);
  });

  it('keeps the large-sample interval where every cell has at least 5', () => {
    const result = twoProportionTest({ entered: 20, converted: 5 }, { entered: 20, converted: 15 });
    const error = Math.sqrt((0.25 * 0.75) / 20 + (0.75 * 0.25) / 20);
    expect(result.confidenceInterval.lower).toBeCloseTo(0.5 - 1.959964 * error, 5);
  });

  it('refuses counts it cannot test', () => {
    expect(() => twoProportionTest({ entered: 0, converted: 0 }, { entered: 10, converted: 1 })).toThrow(
      InvalidInputError,
    );
    expect(() => twoProportionTest({ entered: 10, converted: 11 }, { entered: 10, converted: 1 })).toThrow(
      /converted cannot exceed entered/,
    );
    expect(() =>
      twoProportionTest({ entered: 10, converted: 1 }, { entered: 10, converted: 1 }, { confidence: 95 }),
    ).toThrow(InvalidInputError);
  });
});
