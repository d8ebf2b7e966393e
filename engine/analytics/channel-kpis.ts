import type { DailyCount, DailyMetric } from '../tracking/daily-counts.js';
import type { AttributionTable } from './attribution-table.js';

/** Totals and rates of one channel or message over a period. */
export interface Kpis {
  sent: number;
  failed: number;
  delivered: number;
  bounced: number;
  opened: number;
  clicked: number;
  /** Conversions credited to it by the last-touch model (fractional under no other model). */
  conversions: number;
  /** delivered ÷ sent where the provider reports deliveries, else (sent − bounced) ÷ sent. */
  deliveryRate: number | null;
  openRate: number | null;
  clickRate: number | null;
  conversionRate: number | null;
}

const METRICS = ['sent', 'failed', 'delivered', 'bounced', 'opened', 'clicked'] as const;
const ratio = (part: number, whole: number) => (whole === 0 ? null : part / whole);

/**
 * Channel and message KPIs from the per-day counters, with conversions from the last-touch
 * attribution (the usual basis of a "conversion rate per send"). Rates are per message sent.
 */
export function kpisBy(
  rows: readonly DailyCount[],
  key: 'channel' | 'message',
  attribution: AttributionTable,
): Record<string, Kpis> {
  const totals = new Map<string, Record<(typeof METRICS)[number], number>>();
  for (const row of rows) {
    const total = totals.get(row[key]) ?? {
      sent: 0,
      failed: 0,
      delivered: 0,
      bounced: 0,
      opened: 0,
      clicked: 0,
    };
    totals.set(row[key], total);
    for (const metric of METRICS) total[metric] += row.counts[metric as DailyMetric] ?? 0;
  }
  const credited =
    key === 'channel' ? attribution['last-touch'].byChannel : attribution['last-touch'].byMessage;
  for (const name of Object.keys(credited))
    if (!totals.has(name))
      totals.set(name, { sent: 0, failed: 0, delivered: 0, bounced: 0, opened: 0, clicked: 0 });
  return Object.fromEntries(
    [...totals].map(([name, t]) => {
      const conversions = credited[name]?.conversions ?? 0;
      const delivered = t.delivered > 0 ? t.delivered : t.sent - t.bounced;
      return [
        name,
        {
          ...t,
          conversions,
          deliveryRate: ratio(delivered, t.sent),
          openRate: ratio(t.opened, t.sent),
          clickRate: ratio(t.clicked, t.sent),
          conversionRate: ratio(conversions, t.sent),
        },
      ];
    }),
  );
}
