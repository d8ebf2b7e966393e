import { assignVariant, type SplitWeights } from '../../engine/index.js';

/** The onboarding journey's `tips` split, as declared in journeys/onboarding.ts. */
export const ONBOARDING_TIPS: SplitWeights = [
  ['tips', 90],
  ['holdout', 10],
];

/** The first customer id (`<salt>-<n>`) that a split assigns to `variant`. */
export function customerInVariant(
  variant: string,
  salt = 'user',
  weights = ONBOARDING_TIPS,
  split = 'tips',
  journey = 'onboarding',
): string {
  for (let i = 0; ; i++) {
    const id = `${salt}-${i}`;
    if (assignVariant(id, journey, split, weights) === variant) return id;
  }
}
