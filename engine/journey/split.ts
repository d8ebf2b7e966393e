import { createHash } from 'node:crypto';

/** One arm of a random split: its share of customers. Weights are relative, e.g. 45/45/10. */
export type SplitWeights = ReadonlyArray<readonly [variant: string, weight: number]>;

/**
 * The variant a customer falls in. The same customer, journey and split always get the same
 * variant, on every worker and after every restart, so a re-run job never flips an assignment.
 */
export function assignVariant(
  customerId: string,
  journeyId: string,
  splitId: string,
  weights: SplitWeights,
): string {
  const digest = createHash('sha256').update(`${journeyId}\u0000${splitId}\u0000${customerId}`).digest();
  const unit = digest.readUInt32BE(0) / 0x1_0000_0000;
  const total = weights.reduce((sum, [, weight]) => sum + weight, 0);
  let cumulative = 0;
  for (const [variant, weight] of weights) {
    cumulative += weight / total;
    if (unit < cumulative) return variant;
  }
  // Rounding can leave the last sliver of [0, 1) uncovered: it belongs to the last arm.
  return weights[weights.length - 1]![0];
}
