import type { DailyCount, DailyMetric } from '../tracking/daily-counts.js';
import { CHANNELS_WITH_CLICKS, CHANNELS_WITH_OPENS } from '../tracking/track-links.js';
import { attributeParsed, DEFAULT_HALF_LIFE_MS } from './attribution.js';
import type { ConversionPath } from './attribution-table.js';

/** Totals and rates of one channel, message or split variant over a period. */
export interface Kpis {
  sent: number;
  failed: number;
  /**
   * Deliveries the providers reported: none from a channel whose provider reports none, so it
   * may fall short of what `deliveryRate` reckons arrived.
   */
  delivered: number;
  bounced: number;
  /** Sends the recipient marked as spam, as the provider reported (a feedback loop). */
  complained: number;
  opened: number;
  clicked: number;
  /**
   * Conversions whose last touch was one of its sends (this journey's, not another's, in the
   * period's days, whose sends `sent` counts). When the
   * period has more conversions than the report credits (`attribution.sampled`), an estimate: the
   * credited sample's, scaled to the period's count.
   */
  conversions: number;
  /**
   * delivered ÷ sent where the provider reports deliveries, else (sent − bounced) ÷ sent; for a
   * message, each channel's arrivals so reckoned, added up, over all its sends.
   */
  deliveryRate: number | null;
  /**
   * opened ÷ the sends whose opens can be seen (emails that carried the open pixel); null with
   * none, as on SMS, push, in-app and webhooks, where no open is ever recorded, and on emails
   * sent with TRACK_OPENS=false: not seen is not unopened.
   */
  openRate: number | null;
  /**
   * clicked ÷ the sends whose clicks can be seen (those that carried a tracked link, on any channel
   * but webhooks); null with none, as with TRACK_LINKS=false.
   */
  clickRate: number | null;
  conversionRate: number | null;
}

const METRICS = ['sent', 'failed', 'delivered', 'bounced', 'complained', 'opened', 'clicked'] as const;
/** Counted, not shown: of the sends, those whose opens (clicks) could not be seen. */
const UNTRACKED = ['opens-untracked', 'clicks-untracked'] as const;
const ratio = (part: number, whole: number) => (whole === 0 ? null : part / whole);

/** Last-touch conversions per channel, message and variant, of one journey's sends. */
export interface LastTouchCredits {
  channel: Record<string, number>;
  message: Record<string, number>;
  variant: Record<string, number>;
}

/**
 * The conversions whose last touch (any journey's send) was one of `journeyId`'s sends made in
 * `sentIn` (epoch ms, `to` exclusive), per channel, message and variant: the numerator of that journey's
 * conversion rate per send. Another journey's send that was the last touch takes the conversion
 * away from this journey's, even when it is the same message: counting it here would set
 * conversions the journey did not drive against the journey's own sends. So does a send before
 * `sentIn`: it is not among the sends the rate divides by, and a short period's few sends
 * would be credited with the conversions of the many before it, at rates above 100%.
 */
export function lastTouchCredits(
  paths: readonly ConversionPath[],
  windowMs: number,
  journeyId: string,
  sentIn: { from: number; to: number },
): LastTouchCredits {
  const credits: LastTouchCredits = { channel: {}, message: {}, variant: {} };
  const options = { model: 'last-touch', windowMs, halfLifeMs: DEFAULT_HALF_LIFE_MS } as const;
  for (const { conversion, touchpoints } of paths) {
    const attribution = attributeParsed(conversion, touchpoints, options);
    if (attribution.kind === 'unattributed') continue;
    for (const { touchpoint, credit } of attribution.credits) {
      if (credit === 0 || touchpoint.journeyId !== journeyId) continue;
      if (touchpoint.at < sentIn.from || touchpoint.at >= sentIn.to) continue;
      credits.channel[touchpoint.channel] = (credits.channel[touchpoint.channel] ?? 0) + credit;
      credits.message[touchpoint.message] = (credits.message[touchpoint.message] ?? 0) + credit;
      // A send outside every split is labelled `control`, as the per-day counters label it.
      const variant = touchpoint.variant ?? 'control';
      credits.variant[variant] = (credits.variant[variant] ?? 0) + credit;
    }
  }
  return credits;
}

/**
 * The credits of a sample of the period's conversions, scaled to all of them: `sampled` of
 * `total` conversions were credited. Without it a period with more conversions than the report
 * samples would set the sample's conversions against all of the period's sends, and a busy
 * message's conversion rate would fall the more it converted.
 */
export function scaleCredits(credits: LastTouchCredits, sampled: number, total: number): LastTouchCredits {
  if (sampled === 0 || sampled === total) return credits;
  const scale = (by: Record<string, number>) =>
    Object.fromEntries(Object.entries(by).map(([name, n]) => [name, (n * total) / sampled]));
  return {
    channel: scale(credits.channel),
    message: scale(credits.message),
    variant: scale(credits.variant),
  };
}

const COUNTED = [...METRICS, ...UNTRACKED] as const;
type Totals = Record<(typeof COUNTED)[number], number>;
const zero = (): Totals => Object.fromEntries(COUNTED.map((metric) => [metric, 0])) as Totals;

function addRow(totals: Map<string, Totals>, name: string, row: DailyCount): void {
  const total = totals.get(name) ?? zero();
  totals.set(name, total);
  for (const metric of COUNTED) total[metric] += row.counts[metric as DailyMetric] ?? 0;
}

/** The sends that arrived: what the provider reported delivered, else all those that did not bounce. */
const arrived = (t: Totals) => (t.delivered > 0 ? t.delivered : t.sent - t.bounced);

/**
 * Channel, message or variant KPIs from the per-day counters, with conversions from the last-touch
 * attribution (the usual basis of a "conversion rate per send"). Rates are per message sent, opens
 * and clicks per message sent where they can be seen.
 */
export function kpisBy(
  rows: readonly DailyCount[],
  key: 'channel' | 'message' | 'variant',
  lastTouch: LastTouchCredits,
): Record<string, Kpis> {
  const totals = new Map<string, Totals>();
  // Whether deliveries are reported is a channel's provider's matter: a message sent on several
  // channels has its arrivals estimated on each and added up.
  const perChannel = new Map<string, Map<string, Totals>>();
  for (const row of rows) {
    addRow(totals, row[key], row);
    const channels = perChannel.get(row[key]) ?? new Map<string, Totals>();
    perChannel.set(row[key], channels);
    addRow(channels, row.channel, row);
  }
  const credited = lastTouch[key];
  for (const name of Object.keys(credited)) if (!totals.has(name)) totals.set(name, zero());
  return Object.fromEntries(
    [...totals].map(([name, t]) => {
      const conversions = credited[name] ?? 0;
      const channels = [...(perChannel.get(name) ?? [])];
      const delivered = channels.reduce((n, [, c]) => n + arrived(c), 0);
      // A channel that cannot report opens (or clicks), or a send that carried no pixel (tracked
      // link), would count as never opened. Sends counted before the engine counted untracked
      // ones count as tracked, as they were by default.
      const seenSends = (seen: ReadonlySet<string>, untracked: (typeof UNTRACKED)[number]) =>
        channels.reduce(
          (n, [channel, c]) => n + (seen.has(channel) ? Math.max(0, c.sent - c[untracked]) : 0),
          0,
        );
      const { 'opens-untracked': _opens, 'clicks-untracked': _clicks, ...shown } = t;
      return [
        name,
        {
          ...shown,
          conversions,
          deliveryRate: ratio(delivered, t.sent),
          openRate: ratio(t.opened, seenSends(CHANNELS_WITH_OPENS, 'opens-untracked')),
          clickRate: ratio(t.clicked, seenSends(CHANNELS_WITH_CLICKS, 'clicks-untracked')),
          conversionRate: ratio(conversions, t.sent),
        },
      ];
    }),
  );
}
