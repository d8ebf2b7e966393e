import type { z } from 'zod';
import { parseInput } from '../ingest/ingest-schema.js';
import {
  ATTRIBUTION_MODELS,
  AttributionOptions,
  attributeParsed,
  type AttributionModel,
  type Conversion,
  type Touchpoint,
} from './attribution.js';
import { RevenueTotal } from '../journey/revenue.js';

/** A conversion with the customer's touchpoints (any order; out-of-window ones are ignored). */
export interface ConversionPath {
  conversion: Conversion;
  touchpoints: readonly Touchpoint[];
}

export const AttributionTableOptions = AttributionOptions.omit({ model: true });
export type AttributionTableOptions = z.input<typeof AttributionTableOptions>;

/** Fractional conversions (sum of credits) and the revenue they carry (credit × revenue). */
export interface CreditTotals {
  conversions: number;
  revenue: number;
}

export interface ModelAttribution {
  byChannel: Record<string, CreditTotals>;
  byMessage: Record<string, CreditTotals>;
  /** Conversions with no touchpoint in the window, with their whole revenue. */
  unattributed: CreditTotals;
}

export type AttributionTable = Record<AttributionModel, ModelAttribution>;

/** Revenue is added up in the decimals it was sent in: 0.1 + 0.2 is 0.3, not 0.30000000000000004. */
interface Running {
  conversions: number;
  revenue: RevenueTotal;
}

const running = (): Running => ({ conversions: 0, revenue: new RevenueTotal() });

function add(totals: Map<string, Running>, key: string, conversions: number, revenue: number): void {
  const row = totals.get(key) ?? running();
  row.conversions += conversions;
  row.revenue.add(revenue);
  totals.set(key, row);
}

const done = (row: Running): CreditTotals => ({ conversions: row.conversions, revenue: row.revenue.value });

function sortedRecord(totals: Map<string, Running>): Record<string, CreditTotals> {
  return Object.fromEntries(
    [...totals].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([key, row]) => [key, done(row)]),
  );
}

function tableFor(
  model: AttributionModel,
  paths: readonly ConversionPath[],
  options: z.output<typeof AttributionTableOptions>,
): ModelAttribution {
  const byChannel = new Map<string, Running>();
  const byMessage = new Map<string, Running>();
  const unattributed = running();
  for (const { conversion, touchpoints } of paths) {
    const attribution = attributeParsed(conversion, touchpoints, { ...options, model });
    if (attribution.kind === 'unattributed') {
      unattributed.conversions += 1;
      unattributed.revenue.add(conversion.revenue);
      continue;
    }
    for (const { touchpoint, credit } of attribution.credits) {
      // First and last touch give the other touchpoints 0; they make no row.
      if (credit === 0) continue;
      add(byChannel, touchpoint.channel, credit, credit * conversion.revenue);
      add(byMessage, touchpoint.message, credit, credit * conversion.revenue);
    }
  }
  return {
    byChannel: sortedRecord(byChannel),
    byMessage: sortedRecord(byMessage),
    unattributed: done(unattributed),
  };
}

/**
 * Conversions and revenue per channel and per message under every attribution model, so the
 * models can be read side by side. Each model's rows plus `unattributed` add up to the number of
 * conversions and their total revenue.
 *
 * @throws InvalidInputError when the window or half-life is not positive.
 * @example
 * const table = attributionTable(paths, { windowMs: 30 * 86_400_000 });
 * table['last-touch'].byChannel.email; // { conversions: 12.5, revenue: 830 }
 */
export function attributionTable(
  paths: readonly ConversionPath[],
  options: AttributionTableOptions,
): AttributionTable {
  const parsed = parseInput(AttributionTableOptions, options, 'attribution table options');
  return Object.fromEntries(
    ATTRIBUTION_MODELS.map((model) => [model, tableFor(model, paths, parsed)]),
  ) as AttributionTable;
}
