import { describe, expect, it } from 'vitest';
import { RevenueTotal } from '../../engine/journey/revenue.js';

const sum = (...amounts: number[]) => {
  const total = new RevenueTotal();
  for (const amount of amounts) total.add(amount);
  return total.value;
};

describe('RevenueTotal', () => {
  it('adds amounts in the decimals they were written in', () => {
    expect(sum(0.1, 0.2)).toBe(0.3);
    expect(sum(0.7, 0.1)).toBe(0.8);
    expect(sum(...Array<number>(10).fill(0.1))).toBe(1);
    expect(sum(19.99, 5.01, 0.001)).toBe(25.001);
  });

  it('takes refunds, whole amounts, tiny and huge ones, and nothing', () => {
    expect(sum(49.9, -0.4, -49.5)).toBe(0);
    expect(sum(-0.1, -0.2)).toBe(-0.3);
    expect(sum(1e21, 1e21)).toBe(2e21);
    expect(sum(1.5e-7, 0.5e-7)).toBe(2e-7);
    expect(sum(3, 4)).toBe(7);
    expect(sum()).toBe(0);
  });
});
