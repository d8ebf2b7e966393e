import type { RedisConnection } from '../redis/connection.js';
import { InvalidInputError } from '../ingest/ingest-schema.js';
import type { Journey } from '../journey/define-journey.js';
import { declaredControls, declaredSplits } from '../journey/declared-splits.js';
import type { Logger } from '../logger.js';
import { customerKeys } from '../store/customer-keys.js';
import { readMessageList } from '../store/message-list.js';
import { conversionLogKey, summariseConversions } from '../store/conversion-log.js';
import {
  MAX_DAYS_PER_READ,
  readDailyJourneyCounts,
  type DailyJourneyCounts,
} from '../store/daily-journey-counts.js';
import { readJourneyCounts } from '../store/journey-counts.js';
import type { Touchpoint } from './attribution.js';
import { attributionTable, type AttributionTable, type ConversionPath } from './attribution-table.js';
import { experimentReport, type ExperimentReport } from './experiment-report.js';
import { readDailyCounts, utcDay } from '../tracking/daily-counts.js';
import { kpisBy, lastTouchCredits, scaleCredits, type Kpis } from './channel-kpis.js';
import { objectivePeriod, objectiveProgress, type ObjectiveProgress } from './objective.js';

/** Conversions read for attribution per report; beyond it the table covers a sample drawn evenly over the period. */
export const ATTRIBUTION_SAMPLE = 2000;

const DAY_MS = 86_400_000;

/**
 * The most UTC days a report's period may touch: a leap year. The daily figures are read per
 * day, and a year is what the conversion log keeps.
 */
export const MAX_REPORT_DAYS = 366;

/**
 * Checks a report's period, `from` (inclusive) to `to` (exclusive), epoch ms: it must not be
 * empty, and the UTC days it touches (a part day counting as one) must be at most
 * {@link MAX_REPORT_DAYS}, so that every figure of the report covers the same period.
 *
 * @throws InvalidInputError naming `from`.
 */
export function checkReportPeriod(from: number, to: number): void {
  const refuse = (message: string) => {
    throw new InvalidInputError([{ field: 'from', message }], 'report period');
  };
  if (from >= to) refuse('must be before `to`');
  const days = Math.floor((to - 1) / DAY_MS) - Math.floor(from / DAY_MS) + 1;
  if (days > MAX_REPORT_DAYS) {
    const earliest = new Date(Math.floor((to - 1) / DAY_MS) * DAY_MS - (MAX_REPORT_DAYS - 1) * DAY_MS);
    refuse(
      `the period touches ${days} days (UTC, a part day counting as one); a report covers at most ` +
        `${MAX_REPORT_DAYS}. Give a \`from\` of ${earliest.toISOString().slice(0, 10)} or later, or report the period in parts`,
    );
  }
}

export interface JourneyReport {
  journey: { id: string; version: number };
  period: { from: string; to: string };
  /**
   * What `channels`, `messages` and `variants` cover: the whole UTC days the period touches, as
   * sends and what followed them are counted per UTC day (so a day in another time zone reads
   * two), with the conversions of those days.
   */
  sendsPeriod: { from: string; to: string };
  /** Since the journey started: customers who got at least as far as each stage. */
  funnel: Record<string, number>;
  /** Customers in each state now. */
  states: Record<string, number>;
  entered: number;
  converted: number;
  conversionRate: number | null;
  /** Conversions in the period and the revenue they carried. */
  periodConversions: { count: number; revenue: number };
  attribution: { windowMs: number; conversions: number; sampled: boolean; models: AttributionTable };
  /** Per UTC day of the period: entries, conversions, transitions into each state and stage, exits. */
  daily: DailyJourneyCounts[];
  /** Per channel and per message over the period: sent, delivered, opened, clicked, and rates. */
  channels: Record<string, Kpis>;
  messages: Record<string, Kpis>;
  /**
   * The same per split variant the sends were made in, labelled `<split>=<arm>` (several splits
   * joined by commas, by split id; `control` for sends outside every split): the opens and
   * clicks of a subject-line test, beside the conversions `experiments` compares.
   */
  variants: Record<string, Kpis>;
  /** Each split's arms since the journey started, like the funnel: not the period's. */
  experiments: Array<{ split: string; control: string; report: ExperimentReport }>;
  objective: ObjectiveProgress | null;
}

/**
 * What a journey's live counters say, since it started: what the journey page shows, read
 * without the period's conversions, attribution or daily counts.
 */
export type JourneyStanding = Pick<
  JourneyReport,
  'funnel' | 'states' | 'entered' | 'converted' | 'conversionRate' | 'experiments'
>;

/**
 * The journey's funnel, states, entries, conversions and split experiments, from its counters
 * alone: one read, where a report also reads each sampled converter's message list.
 */
export async function readJourneyStanding(
  redis: RedisConnection,
  prefix: string,
  journey: Journey,
): Promise<JourneyStanding> {
  return standingOf(journey, await readJourneyCounts(redis, prefix, journey.id));
}

function standingOf(
  journey: Journey,
  versions: Awaited<ReturnType<typeof readJourneyCounts>>,
): JourneyStanding {
  const add = (into: Record<string, number>, from: Record<string, number>) => {
    for (const [key, n] of Object.entries(from)) into[key] = (into[key] ?? 0) + n;
    return into;
  };
  const entered = versions.reduce((n, v) => n + v.entered, 0);
  const converted = versions.reduce((n, v) => n + v.converted, 0);
  return {
    funnel: versions.reduce((all, v) => add(all, v.reached), {} as Record<string, number>),
    states: versions.reduce((all, v) => add(all, v.states), {} as Record<string, number>),
    entered,
    converted,
    conversionRate: entered === 0 ? null : converted / entered,
    experiments: experimentsOf(
      declaredSplits(journey),
      declaredControls(journey),
      versions.map((v) => v.variants),
    ),
  };
}

interface MessageEntry {
  opId?: string;
  status?: string;
  at?: number;
  channel?: string;
  message?: string;
  journeyId?: string;
  variant?: string;
}

/**
 * One journey's report for a period: the funnel and states (live counts), conversions and their
 * attribution to the messages each customer was sent within the journey's window before
 * converting (from the customer's message list), each split's experiment results with a
 * holdout's lift, and the objective's progress.
 *
 * @throws InvalidInputError when the period is empty or too long (see {@link checkReportPeriod}).
 */
export async function buildJourneyReport(input: {
  redis: RedisConnection;
  prefix: string;
  journey: Journey;
  from: number;
  to: number;
  now: number;
  /** Told of message-list entries the attribution skipped (not JSON objects). */
  logger?: Logger;
}): Promise<JourneyReport> {
  const { redis, prefix, journey, from, to, now } = input;
  checkReportPeriod(from, to);
  const standing = standingOf(journey, await readJourneyCounts(redis, prefix, journey.id));

  const conversions = await summariseConversions(redis, prefix, journey.id, { from, to }, ATTRIBUTION_SAMPLE);
  const windowMs = journey.goal?.windowMs ?? 7 * 86_400_000;
  const sample = conversions.sample;
  // A customer's touchpoints are read once, whichever samples their conversions are in.
  const touchpoints = new Map<string, Promise<Touchpoint[]>>();
  const skipped = { malformed: 0, customers: 0 };
  const pathsOf = (logged: typeof sample): Promise<ConversionPath[]> =>
    Promise.all(
      logged.map(async (conversion) => {
        const read =
          touchpoints.get(conversion.customerId) ??
          touchpointsOf(redis, prefix, conversion.customerId, skipped);
        touchpoints.set(conversion.customerId, read);
        return {
          conversion: { at: conversion.at, revenue: conversion.revenue, customerId: conversion.customerId },
          touchpoints: await read,
        };
      }),
    );
  const paths = await pathsOf(sample);

  const models = attributionTable(paths, { windowMs });
  // The sends the KPIs divide by are counted per UTC day: those of every day the period touches.
  // Their conversions are those of the same days: a period of another zone's day touches two UTC
  // days, and their sends set against the period's conversions alone had too low a rate.
  const sentIn = { from: Math.floor(from / DAY_MS) * DAY_MS, to: Math.ceil(to / DAY_MS) * DAY_MS };
  const onSendDays =
    sentIn.from === from && sentIn.to === to
      ? conversions
      : await summariseConversions(redis, prefix, journey.id, sentIn, ATTRIBUTION_SAMPLE);
  const ownLastTouch = scaleCredits(
    lastTouchCredits(
      onSendDays === conversions ? paths : await pathsOf(onSendDays.sample),
      windowMs,
      journey.id,
      sentIn,
    ),
    onSendDays.sample.length,
    onSendDays.count,
  );
  if (skipped.malformed > 0)
    input.logger?.warn(
      { journeyId: journey.id, ...skipped },
      "entries of customers' message lists that are not JSON objects were skipped in the attribution",
    );
  const rows = await readDailyCounts(redis, prefix, { journeyId: journey.id, from, to: to - 1 });
  return {
    journey: { id: journey.id, version: journey.version },
    period: { from: new Date(from).toISOString(), to: new Date(to).toISOString() },
    sendsPeriod: { from: new Date(sentIn.from).toISOString(), to: new Date(sentIn.to).toISOString() },
    funnel: standing.funnel,
    states: standing.states,
    entered: standing.entered,
    converted: standing.converted,
    conversionRate: standing.conversionRate,
    periodConversions: {
      count: conversions.count,
      revenue: conversions.revenue,
    },
    attribution: {
      windowMs,
      conversions: sample.length,
      sampled: sample.length < conversions.count,
      models,
    },
    daily: await readDailyJourneyCounts(redis, prefix, journey.id, from, to - 1),
    channels: kpisBy(rows, 'channel', ownLastTouch),
    messages: kpisBy(rows, 'message', ownLastTouch),
    variants: kpisBy(rows, 'variant', ownLastTouch),
    experiments: standing.experiments,
    objective: journey.objective
      ? objectiveProgress(journey.objective, await objectiveActual(input), now)
      : null,
  };
}

/** What of a send the customer's engagement may show: each field is `<opId>|<kind>`. */
const REACHED = ['delivered', 'opened', 'clicked'] as const;

/**
 * The messages that reached the customer (any journey), as touchpoints: those sent, but not one
 * its provider reported bounced, which never arrived, unless it was delivered, opened or clicked
 * after all (a soft bounce retried); and those recorded `unknown` (a run died around the provider
 * call) that a delivery report, an open or a click shows arrived. Entries that are not JSON
 * objects are skipped, and counted in `skipped`.
 */
async function touchpointsOf(
  redis: RedisConnection,
  prefix: string,
  customerId: string,
  skipped: { malformed: number; customers: number },
): Promise<Touchpoint[]> {
  const keys = customerKeys(prefix, customerId);
  const list = readMessageList(await redis.lrange(keys.messages, 0, -1));
  if (list.malformed > 0) {
    skipped.malformed += list.malformed;
    skipped.customers += 1;
  }
  const handedOver = (list.entries as MessageEntry[]).filter(
    (m) =>
      (m.status === 'sent' || m.status === 'unknown') && typeof m.at === 'number' && m.channel && m.message,
  );
  const kinds = ['bounced', ...REACHED] as const;
  const fields = handedOver.flatMap((m) => (m.opId ? kinds.map((kind) => `${m.opId}|${kind}`) : []));
  const values = fields.length === 0 ? [] : await redis.hmget(keys.tracked, ...fields);
  const seen = new Set(fields.filter((_, i) => values[i] != null));
  const reached = (m: MessageEntry) => REACHED.some((kind) => seen.has(`${m.opId}|${kind}`));
  return handedOver
    .filter((m) =>
      m.status === 'sent' ? !seen.has(`${m.opId}|bounced`) || reached(m) : m.opId !== undefined && reached(m),
    )
    .map((m) => ({
      at: m.at!,
      channel: m.channel!,
      message: m.message!,
      ...(m.journeyId ? { journeyId: m.journeyId } : {}),
      ...(m.variant ? { variant: m.variant } : {}),
    }));
}

/**
 * Arms are counted as `<split>=<arm>`, parted at the first `=`. The arm named `holdout` is the
 * holdout; the control is the arm the split names (`j.split(id, arms, { control })`), else the arm
 * named `control`, else the first other arm in alphabetical order.
 * Every arm the journey declares is there from the start, at 0: counts appear only once a customer
 * enters an arm, and a split nobody (or only the holdout) has entered yet was left out, read on the
 * journey page as "no split".
 */
function experimentsOf(
  declared: ReadonlyMap<string, ReadonlySet<string>>,
  controls: ReadonlyMap<string, string>,
  perVersion: ReadonlyArray<Record<string, { entered: number; converted: number }>>,
) {
  const splits = new Map<string, Map<string, { entered: number; converted: number }>>();
  for (const [split, arms] of declared)
    splits.set(split, new Map([...arms].map((arm) => [arm, { entered: 0, converted: 0 }])));
  for (const arms of perVersion)
    for (const [key, counts] of Object.entries(arms)) {
      // Split ids cannot hold an `=` (defineJourney refuses one); arm names may.
      const at = key.indexOf('=');
      if (at === -1) continue;
      const split = key.slice(0, at);
      const arm = key.slice(at + 1);
      const bySplit = splits.get(split) ?? new Map<string, { entered: number; converted: number }>();
      splits.set(split, bySplit);
      const total = bySplit.get(arm) ?? { entered: 0, converted: 0 };
      bySplit.set(arm, {
        entered: total.entered + counts.entered,
        converted: total.converted + counts.converted,
      });
    }
  return [...splits].flatMap(([split, arms]) => {
    const names = [...arms.keys()].sort();
    const named = controls.get(split);
    const control =
      named !== undefined && names.includes(named)
        ? named
        : names.includes('control')
          ? 'control'
          : names.find((name) => name !== 'holdout');
    if (control === undefined) return [];
    const groups = names.map((variant) => {
      const { entered, converted } = arms.get(variant)!;
      // Counters a crash left apart (on a Cluster the statistics write is a step of its own; see
      // README, Scaling out) must not fail the whole report: an arm is read as at most all
      // converted, until recountJourneys rebuilds the counts.
      const enteredSoFar = Math.max(0, entered);
      return {
        variant,
        entered: enteredSoFar,
        converted: Math.min(enteredSoFar, Math.max(0, converted)),
        holdout: variant === 'holdout',
      };
    });
    return [{ split, control, report: experimentReport(groups, { control }) }];
  });
}

async function objectiveActual(input: {
  redis: RedisConnection;
  prefix: string;
  journey: Journey;
  now: number;
}): Promise<number | null> {
  const objective = input.journey.objective!;
  // Up to now, and not past the deadline: a total reached after it did not meet the objective.
  const period = objectivePeriod(objective);
  if (objective.metric === 'conversion-rate') return periodConversionRate(input, period);
  const range = { from: period.from, to: Math.min(input.now + 1, period.to) };
  // Counted by Redis: an objective's period may be a year of a busy journey's log, read member by
  // member on every report only to be counted. Revenue has to be read (each order's once).
  if (objective.metric === 'conversions')
    return input.redis.zcount(conversionLogKey(input.prefix, input.journey.id), range.from, `(${range.to}`);
  return (await summariseConversions(input.redis, input.prefix, input.journey.id, range, 0)).revenue;
}

/**
 * A conversion-rate objective's actual: of the instances that entered on the days from its start
 * to now (at most its deadline), the share that converted on those days, from the per-day counts,
 * read as many days at a time as they allow (they are kept that long). Conversions of instances
 * that entered before the first day are left out: set against entries they are not among, they
 * took the rate early in a period, when most conversions are of earlier entrants, past 100%.
 * Null while nobody has entered.
 */
async function periodConversionRate(
  input: { redis: RedisConnection; prefix: string; journey: Journey; now: number },
  period: { from: number; to: number },
): Promise<number | null> {
  const last = Math.min(input.now, period.to - 1);
  const firstDay = utcDay(period.from);
  let entered = 0;
  let converted = 0;
  const chunk = MAX_DAYS_PER_READ * DAY_MS;
  for (let from = period.from; from <= last; from += chunk) {
    const to = Math.min(last, from + chunk - 1);
    for (const day of await readDailyJourneyCounts(input.redis, input.prefix, input.journey.id, from, to)) {
      entered += day.entered;
      let byEntryDay = 0;
      for (const [enteredOn, n] of Object.entries(day.convertedByEntryDay)) {
        byEntryDay += n;
        if (enteredOn >= firstDay) converted += n;
      }
      // Conversions counted before their entry day was kept: taken as the period's, as they were.
      converted += day.converted - byEntryDay;
    }
  }
  // Nobody entered yet: no rate, rather than 0% and behind on the first day.
  return entered === 0 ? null : converted / entered;
}
