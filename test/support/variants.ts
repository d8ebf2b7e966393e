import { assignVariant, type SplitWeights } from '../../engine/index.js';

/** The onboarding journey's `tips` split, as declared in test/fixtures/journeys/onboarding.ts. */
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

/** The win-back journey's `offer` split, as declared in journeys/win-back.ts. */
export const WIN_BACK_OFFER: SplitWeights = [
  ['coupon', 45],
  ['letter', 45],
  ['holdout', 10],
];

/** The first customer id that the win-back `offer` split assigns to `variant`. */
export const winBackCustomerIn = (variant: string, salt = 'lapsed'): string =>
  customerInVariant(variant, salt, WIN_BACK_OFFER, 'offer', 'win-back');
