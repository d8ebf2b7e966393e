/** Two groups' entries and conversions, as the two-proportion test takes them. */
interface Counts {
  entered: number;
  converted: number;
}

/**
 * The two-sided p-value of Fisher's exact test of two groups' conversion rates: given the
 * conversions of both together, the chance of a split between the groups no likelier than the one
 * seen, if either group was as likely to convert (the hypergeometric distribution). Exact at any
 * size, so it is the one to read where the normal approximation behind the z-test is poor: few
 * conversions, or few non-conversions (Agresti, An Introduction to Categorical Data Analysis,
 * §2.6). The probabilities are built up one count at a time from their ratios, as logarithms,
 * so that large groups neither overflow nor need a log-gamma function.
 *
 * @example
 * fisherExactPValue({ entered: 3, converted: 0 }, { entered: 3, converted: 3 }); // 0.1
 */
export function fisherExactPValue(control: Counts, treatment: Counts): number {
  const n1 = control.entered;
  const n2 = treatment.entered;
  const total = control.converted + treatment.converted;
  // The control's conversions can be anything from `low` to `high` with these totals.
  const low = Math.max(0, total - n2);
  const high = Math.min(total, n1);
  // ln P(x) − ln P(low), one x after another:
  // P(x + 1) / P(x) = (n1 − x)(total − x) / ((x + 1)(n2 − total + x + 1)).
  // Walked twice, for the largest and the one seen, then for the sums, rather than held: a split
  // of millions of customers would make an array of millions.
  const walk = (visit: (logWeight: number) => void) => {
    let w = 0;
    visit(w);
    for (let x = low; x < high; x++) {
      w += Math.log(((n1 - x) * (total - x)) / ((x + 1) * (n2 - total + x + 1)));
      visit(w);
    }
  };
  let largest = -Infinity;
  let seen = 0;
  let x = low;
  walk((w) => {
    largest = Math.max(largest, w);
    if (x++ === control.converted) seen = w;
  });
  let all = 0;
  let asExtreme = 0;
  walk((w) => {
    const p = Math.exp(w - largest);
    all += p;
    // A relative tolerance, so that a split exactly as likely as the one seen is not lost to rounding.
    if (w <= seen + 1e-7) asExtreme += p;
  });
  return Math.min(1, asExtreme / all);
}
