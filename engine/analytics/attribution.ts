import { z } from 'zod';
import { parseInput } from '../ingest/ingest-schema.js';

/** One message a customer received (or clicked) before converting. */
export interface Touchpoint {
  /** Epoch milliseconds. */
  at: number;
  channel: string;
  /** The core message id. */
  message: string;
  journeyId?: string;
  variant?: string;
}

/** A conversion to be credited to the touchpoints before it. */
export interface Conversion {
  /** Epoch milliseconds. */
  at: number;
  revenue: number;
  customerId: string;
}

export const ATTRIBUTION_MODELS = [
  'first-touch',
  'last-touch',
  'linear',
  'time-decay',
  'position-based',
] as const;
export type AttributionModel = (typeof ATTRIBUTION_MODELS)[number];

/** Seven days, the half-life of Google Analytics' time-decay model. */
export const DEFAULT_HALF_LIFE_MS = 7 * 86_400_000;

/** How to credit one conversion. `halfLifeMs` is read by `time-decay` only. */
export const AttributionOptions = z.object({
  model: z.enum(ATTRIBUTION_MODELS),
  /** Touchpoints more than this long before the conversion get no credit. */
  windowMs: z.number().positive(),
  halfLifeMs: z.number().positive().finite().default(DEFAULT_HALF_LIFE_MS),
});
export type AttributionOptions = z.input<typeof AttributionOptions>;

export interface TouchpointCredit {
  touchpoint: Touchpoint;
  /** This touchpoint's share of the conversion; the shares of one conversion sum to 1. */
  credit: number;
}

/** Credits summing to 1, or `unattributed` when no touchpoint falls in the window. */
export type Attribution =
  | { kind: 'attributed'; credits: TouchpointCredit[] }
  | { kind: 'unattributed'; reason: 'no-touchpoint-in-window' };

// Position-based (U-shaped) shares, as Google Ads defines the model.
const POSITION_ENDS = 0.4;
const POSITION_MIDDLE = 0.2;

/** Touchpoints at or before the conversion and no older than the window, oldest first. */
function eligible(conversionAt: number, touchpoints: readonly Touchpoint[], windowMs: number): Touchpoint[] {
  // Array#sort is stable, so touchpoints at the same instant keep the order they were given in.
  return touchpoints
    .filter((t) => t.at <= conversionAt && conversionAt - t.at <= windowMs)
    .sort((a, b) => a.at - b.at);
}

function weights(model: AttributionModel, ages: readonly number[], halfLifeMs: number): number[] {
  const n = ages.length;
  switch (model) {
    case 'first-touch':
      return ages.map((_, i) => (i === 0 ? 1 : 0));
    case 'last-touch':
      return ages.map((_, i) => (i === n - 1 ? 1 : 0));
    case 'linear':
      return ages.map(() => 1 / n);
    case 'time-decay': {
      // w = 2^(−age / half-life): a touchpoint one half-life older counts half as much. Ages are
      // taken from the youngest touchpoint, which weighs 1: the shares are the same, and weights
      // of touchpoints some thousand half-lives old no longer all round to 0 (credits of 0/0).
      const youngest = ages.reduce((min, age) => Math.min(min, age), Infinity);
      return ages.map((age) => 2 ** (-(age - youngest) / halfLifeMs));
    }
    case 'position-based':
      // 40% first, 40% last, 20% shared by the middle. One touch takes all; with two there is no
      // middle, so its 20% is split evenly and each end gets 50%.
      if (n === 1) return [1];
      if (n === 2) return [0.5, 0.5];
      return ages.map((_, i) => (i === 0 || i === n - 1 ? POSITION_ENDS : POSITION_MIDDLE / (n - 2)));
  }
}

/** {@link attribute} for options already parsed; the table calls it once per conversion. */
export function attributeParsed(
  conversion: Conversion,
  touchpoints: readonly Touchpoint[],
  options: z.output<typeof AttributionOptions>,
): Attribution {
  const inWindow = eligible(conversion.at, touchpoints, options.windowMs);
  if (inWindow.length === 0) return { kind: 'unattributed', reason: 'no-touchpoint-in-window' };
  const raw = weights(
    options.model,
    inWindow.map((t) => conversion.at - t.at),
    options.halfLifeMs,
  );
  const total = raw.reduce((sum, w) => sum + w, 0);
  return {
    kind: 'attributed',
    credits: inWindow.map((touchpoint, i) => ({ touchpoint, credit: raw[i]! / total })),
  };
}

/**
 * Shares one conversion among the touchpoints before it under one attribution model.
 *
 * Only touchpoints at or before the conversion and within `windowMs` of it count. Ties in time
 * keep their given order, which decides first and last touch.
 *
 * @throws InvalidInputError when the options are not valid (unknown model, window or half-life
 *   not positive).
 * @example
 * const day = 86_400_000;
 * attribute({ at: 10 * day, revenue: 90, customerId: 'c1' },
 *   [{ at: 3 * day, channel: 'email', message: 'welcome' }, { at: 10 * day, channel: 'sms', message: 'nudge' }],
 *   { model: 'time-decay', windowMs: 30 * day, halfLifeMs: 7 * day });
 * // credits 1/3 to the email (weight 0.5) and 2/3 to the sms (weight 1)
 */
export function attribute(
  conversion: Conversion,
  touchpoints: readonly Touchpoint[],
  options: AttributionOptions,
): Attribution {
  return attributeParsed(
    conversion,
    touchpoints,
    parseInput(AttributionOptions, options, 'attribution options'),
  );
}
