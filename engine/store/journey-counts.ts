import type { RedisConnection } from '../redis/connection.js';
import type { StatsWriter } from './stats-writes.js';
import { STAGES } from '../journey/stage.js';
import { reachedStage, type InstanceRecord } from '../runtime/instance-record.js';

/**
 * Live counts per journey: customers active in each state and stage, entries, conversions
 * (the goal reached) and exits by reason, per version. One hash per journey, fields `<version>|<kind>|<name>`.
 *
 * On a single Redis the counts move inside each commit's atomic step. On a Redis Cluster they
 * live in another slot than the customer, so they are updated right after the commit, and a
 * process that dies between the two leaves a count off by that customer; `recountJourneys`
 * rebuilds them exactly from the customers (see stats-writes.ts).
 */
export type CountKind =
  'state' | 'stage' | 'reached' | 'entered' | 'exit' | 'converted' | 'variant' | 'variant-converted';

export function journeyCountsKey(prefix: string, journeyId: string): string {
  return `${prefix}:journey-counts:${journeyId}`;
}

function field(version: number, kind: CountKind, name: string): string {
  return `${version}|${kind}|${name}`;
}

/** Per journey, per field, the change from `before` to `after` for one customer's instances. */
export function countDeltas(
  before: ReadonlyMap<string, InstanceRecord>,
  after: Iterable<InstanceRecord>,
): Map<string, Map<string, number>> {
  const deltas = new Map<string, Map<string, number>>();
  const bump = (record: InstanceRecord, kind: CountKind, name: string, by: number) => {
    const fields = deltas.get(record.journeyId) ?? new Map<string, number>();
    deltas.set(record.journeyId, fields);
    const key = field(record.journeyVersion, kind, name);
    fields.set(key, (fields.get(key) ?? 0) + by);
  };
  for (const next of after) {
    const previous = before.get(next.id);
    if (previous?.status === 'active') {
      bump(previous, 'state', previous.state, -1);
      bump(previous, 'stage', previous.stage, -1);
    }
    if (!previous) bump(next, 'entered', 'all', 1);
    // The funnel counts how far each instance got: once in the furthest stage it reached and
    // every stage before it, so a step that passes straight through a stage (a transient state)
    // still counts there. From the furthest stage the record keeps, not the one it is in: an
    // instance that moved back a stage and on again would count twice in the stages it came back
    // to, and one that moved on and back within one batch would not count in the stage it left.
    const from = previous ? STAGES.indexOf(reachedStage(previous)) + 1 : 0;
    for (let stage = from; stage <= STAGES.indexOf(reachedStage(next)); stage++)
      bump(next, 'reached', STAGES[stage]!, 1);
    // Experiments: an arm counts its instances once assigned, and its converted ones once they
    // are both, whichever came first: an instance that reached the goal before its arm was
    // assigned (a split after the order) counts there too, as a recount finds it, and whether the
    // two happened in one batch or in two does not change the count.
    const variants = (next.context.variants as Record<string, string> | undefined) ?? {};
    const assignedBefore = (previous?.context.variants as Record<string, string> | undefined) ?? {};
    const converted = next.convertedAt !== undefined;
    const convertedBefore = previous?.convertedAt !== undefined;
    if (converted && !convertedBefore) bump(next, 'converted', 'all', 1);
    for (const [split, arm] of Object.entries(variants)) {
      const assignedNow = assignedBefore[split] === undefined;
      if (assignedNow) bump(next, 'variant', `${split}=${arm}`, 1);
      if (converted && (assignedNow || !convertedBefore))
        bump(next, 'variant-converted', `${split}=${arm}`, 1);
    }
    if (next.status === 'active') {
      bump(next, 'state', next.state, 1);
      bump(next, 'stage', next.stage, 1);
    } else if (!previous || previous.status === 'active') {
      bump(next, 'exit', next.exitReason ?? next.status, 1);
    }
  }
  return deltas;
}

/**
 * Where a journey keeps what erased customers still count for (their entries, exits, conversions,
 * funnel): the live counts keep it, and `recountJourneys`, which finds only the customers who are
 * left, adds it back. Counts only, no customer ids.
 */
export function erasedCountsKey(prefix: string, journeyId: string): string {
  return `${prefix}:journey-counts-erased:${journeyId}`;
}

/** Count changes per journey, per field. */
export type CountDeltas = Map<string, Map<string, number>>;

/** Adds `from` into `into`, journey by journey and field by field; returns `into`. */
export function addDeltas(
  into: CountDeltas,
  from: ReadonlyMap<string, ReadonlyMap<string, number>>,
): CountDeltas {
  for (const [journeyId, fields] of from) {
    const sum = into.get(journeyId) ?? new Map<string, number>();
    into.set(journeyId, sum);
    for (const [name, by] of fields) sum.set(name, (sum.get(name) ?? 0) + by);
  }
  return into;
}

/**
 * A customer's tally of their deleted finished instances (`<journeyId>|<field>` → count, as
 * Redis returns it) as deltas: journey ids hold no `|`, so the first one ends the id.
 */
export function tallyDeltas(tally: Readonly<Record<string, number | string>>): CountDeltas {
  const deltas: CountDeltas = new Map();
  for (const [tallied, by] of Object.entries(tally)) {
    const bar = tallied.indexOf('|');
    const fields = deltas.get(tallied.slice(0, bar)) ?? new Map<string, number>();
    deltas.set(tallied.slice(0, bar), fields);
    fields.set(tallied.slice(bar + 1), Number(by));
  }
  return deltas;
}

/**
 * What an erased customer leaves in the live counts: all their instances counted (as a recount
 * would), plus their tally of deleted finished instances, minus what the erasure takes away (see
 * removalDeltas).
 */
export function erasedResidue(
  instances: Iterable<InstanceRecord>,
  prunedTally: Readonly<Record<string, number>>,
): CountDeltas {
  const records = [...instances];
  const residue = addDeltas(countDeltas(new Map(), records), tallyDeltas(prunedTally));
  return addDeltas(residue, removalDeltas(records));
}

/** What erasing a customer takes away: their active instances leave the state and stage counts. */
export function removalDeltas(instances: Iterable<InstanceRecord>): Map<string, Map<string, number>> {
  const deltas = new Map<string, Map<string, number>>();
  for (const record of instances) {
    if (record.status !== 'active') continue;
    const fields = deltas.get(record.journeyId) ?? new Map<string, number>();
    deltas.set(record.journeyId, fields);
    for (const [kind, name] of [
      ['state', record.state],
      ['stage', record.stage],
    ] as const) {
      const key = field(record.journeyVersion, kind, name);
      fields.set(key, (fields.get(key) ?? 0) - 1);
    }
  }
  return deltas;
}

/** Adds the deltas to `batch`, so one commit's statistics go to Redis in one round trip. */
export function queueCountDeltas(
  batch: StatsWriter,
  prefix: string,
  deltas: ReadonlyMap<string, ReadonlyMap<string, number>>,
): void {
  for (const [journeyId, fields] of deltas) {
    const key = journeyCountsKey(prefix, journeyId);
    batch.hincrbyAll(key, fields);
  }
}

/** Queues an erased customer's residue (see erasedResidue) onto their journeys' erased counts. */
export function queueErasedCounts(
  batch: StatsWriter,
  prefix: string,
  residue: ReadonlyMap<string, ReadonlyMap<string, number>>,
): void {
  for (const [journeyId, fields] of residue) batch.hincrbyAll(erasedCountsKey(prefix, journeyId), fields);
}

export interface JourneyCounts {
  version: number;
  entered: number;
  /** Instances that reached the journey's goal. */
  converted: number;
  active: number;
  /** Per split arm (`<split>=<arm>`): instances assigned to it, and those that converted. */
  variants: Record<string, { entered: number; converted: number }>;
  /** The funnel: instances that got at least as far as each stage, whether still there or not. */
  reached: Record<string, number>;
  states: Record<string, number>;
  stages: Record<string, number>;
  exits: Record<string, number>;
}

/**
 * The counts of one journey, one entry per version that has had customers. A counter below 0 is
 * read as 0: only counters a crash left apart get there (on a Redis Cluster the statistics write
 * is a step of its own; see README, Scaling out), and "-1 customers now" helps nobody until
 * recountJourneys rebuilds them. (Split arms are read apart, in the report.)
 */
export async function readJourneyCounts(
  redis: RedisConnection,
  prefix: string,
  journeyId: string,
): Promise<JourneyCounts[]> {
  const raw = await redis.hgetall(journeyCountsKey(prefix, journeyId));
  const versions = new Map<number, JourneyCounts>();
  for (const [key, value] of Object.entries(raw)) {
    const [version, kind, ...rest] = key.split('|');
    const name = rest.join('|');
    const n = Math.max(0, Number(value));
    const v = Number(version);
    const counts: JourneyCounts = versions.get(v) ?? {
      version: v,
      entered: 0,
      converted: 0,
      active: 0,
      reached: {},
      variants: {},
      states: {},
      stages: {},
      exits: {},
    };
    versions.set(v, counts);
    if (kind === 'entered') counts.entered += n;
    else if (kind === 'converted') counts.converted += n;
    else if (kind === 'reached') counts.reached[name] = n;
    else if (kind === 'variant' || kind === 'variant-converted') {
      const arm = (counts.variants[name] ??= { entered: 0, converted: 0 });
      if (kind === 'variant') arm.entered += n;
      else arm.converted += n;
    } else if (kind === 'state' && n !== 0) counts.states[name] = n;
    else if (kind === 'stage' && n !== 0) {
      counts.stages[name] = n;
      counts.active += n;
    } else if (kind === 'exit') counts.exits[name] = n;
  }
  return [...versions.values()].sort((a, b) => a.version - b.version);
}
