import type { Journey } from '../journey/define-journey.js';
import { readRevenue } from '../journey/revenue.js';
import { JourneyNotFoundError, type JourneyCatalog } from '../journey/journey-catalog.js';
import type { Command, Note } from './command.js';
import type { CustomerEvent, TrackEvent } from './customer-event.js';
import {
  instanceId,
  pendingLocalWaits,
  sendIdOf,
  withLocalWaits,
  type CustomerState,
  type InstanceRecord,
} from './instance-record.js';
import { enterInstance, finish, stepInstance } from './instance-step.js';
import { moveLocalTimeWaits } from './local-time-move.js';
import { customerTimeZone } from '../local-time.js';

export interface StepResult {
  customer: CustomerState;
  /** Instance ids whose record changed and must be written. */
  changed: string[];
  profileChanged: boolean;
  commands: Command[];
  notes: Note[];
  /**
   * Finished instances dropped from the customer because newer ones of the same journey finished
   * (beyond the catalog's `keepFinished`): they are deleted, and their part of the journey
   * counts is kept apart so a recount still finds it.
   */
  pruned: InstanceRecord[];
}

/** Segment semantics: a trait set to `null` is removed; anything else replaces the old value. */
function mergeTraits(
  profile: Record<string, unknown>,
  traits: Record<string, unknown>,
): Record<string, unknown> {
  const next: Record<string, unknown> = { ...profile };
  for (const [key, value] of Object.entries(traits)) {
    if (value === null) delete next[key];
    else Object.defineProperty(next, key, { value, enumerable: true, writable: true, configurable: true });
  }
  return next;
}

function formatIssues(issues: ReadonlyArray<{ path: PropertyKey[]; message: string }>, root: string): string {
  return issues.map((issue) => `${[root, ...issue.path.map(String)].join('.')}: ${issue.message}`).join('; ');
}

/**
 * The pure core of the runtime: applies one event to one customer at time `now`, and returns
 * the next state with the commands (sends, timers, cancels) the workers must carry out.
 * It reads no clock and touches no Redis, so the worker, the harness and the tests share it.
 */
export function applyEvent(
  customer: CustomerState,
  event: CustomerEvent,
  now: number,
  catalog: JourneyCatalog,
): StepResult {
  const instances = new Map(customer.instances);
  const result: StepResult = {
    customer: { ...customer, instances },
    changed: [],
    profileChanged: false,
    commands: [],
    notes: [],
    pruned: [],
  };
  const put = (update: { record: InstanceRecord; commands: Command[] } | undefined) => {
    if (!update) return;
    instances.set(update.record.id, update.record);
    if (!result.changed.includes(update.record.id)) result.changed.push(update.record.id);
    result.commands.push(...update.commands);
    if (update.record.status !== 'active') {
      result.notes.push(
        update.record.status === 'failed'
          ? {
              kind: 'failed',
              journeyId: update.record.journeyId,
              instanceId: update.record.id,
              reason: update.record.error ?? 'unknown',
            }
          : {
              kind: 'exited',
              journeyId: update.record.journeyId,
              instanceId: update.record.id,
              reason: update.record.exitReason ?? 'done',
            },
      );
    }
  };
  // A missing journey version is the operator's to fix, not the event's fault: it propagates, so
  // the job fails and retries, and the event waits in the inbox until that version is deployed.
  // (A worker leaves a customer in a version newer than it loads to a newer worker before this.)
  const guarded = (record: InstanceRecord, run: () => void) => {
    try {
      run();
    } catch (error) {
      if (error instanceof JourneyNotFoundError) throw error;
      result.notes.push({
        kind: 'rejected',
        journeyId: record.journeyId,
        instanceId: record.id,
        reason: (error as Error).message,
      });
    }
  };

  switch (event.kind) {
    case 'identify': {
      const profile = mergeTraits(customer.profile, event.traits);
      result.customer = { ...result.customer, profile };
      result.profileChanged = true;
      // A customer whose clock changed (a `timezone` trait, or the device's zone while no
      // `timezone` names one) has their waits until a local time moved to it.
      const from = customerTimeZone(customer.profile, catalog.timezone);
      const zone = customerTimeZone(profile, catalog.timezone);
      if (zone === from) break;
      for (const record of activeInstances(instances)) {
        if (Object.keys(record.timers).length === 0) continue;
        guarded(record, () =>
          put(
            moveLocalTimeWaits(
              catalog.version(record.journeyId, record.journeyVersion),
              customer.customerId,
              record,
              from,
              zone,
              now,
            ),
          ),
        );
      }
      break;
    }
    case 'track':
      for (const record of activeInstances(instances)) {
        guarded(record, () =>
          put(
            applyTrack(
              catalog.version(record.journeyId, record.journeyVersion),
              record,
              customer.profile,
              event,
              now,
              result.notes,
              catalog.timezone,
            ),
          ),
        );
      }
      for (const latest of catalog.triggeredBy(event.name)) {
        const journey = entryVersion(latest);
        const parsed = journey.trigger.schema.safeParse(event.properties);
        // The trigger's schema is its filter (`total: z.number().min(100)` enters large orders
        // only): an event it does not take keeps the customer out, as the re-entry policy does. The
        // event is not at fault, and may have been applied to the customer's other journeys, so it
        // is not set aside among their unapplied events.
        if (!parsed.success) {
          const mistyped = parsed.error.issues.some((issue) => issue.code === 'invalid_type');
          result.notes.push({
            kind: 'not-entered',
            journeyId: journey.id,
            reason: `event "${event.name}" does not match the trigger: ${formatIssues(parsed.error.issues, 'properties')}`,
            ...(mistyped ? { mistyped: true as const } : {}),
          });
          continue;
        }
        enter(journey, parsed.data, event.timestamp);
      }
      break;
    case 'enter': {
      const journey = entryVersion(catalog.latest(event.journeyId));
      if (journey.trigger.kind !== 'api') {
        result.notes.push({
          kind: 'rejected',
          journeyId: journey.id,
          reason: `journey ${journey.id} starts on event "${journey.trigger.event}", not through the API`,
        });
        break;
      }
      const parsed = journey.trigger.schema.safeParse(event.data);
      if (!parsed.success) {
        result.notes.push({
          kind: 'rejected',
          journeyId: journey.id,
          reason: formatIssues(parsed.error.issues, 'data'),
        });
        break;
      }
      // No later than it was received: the caller's clock may run ahead, and a backlog can apply
      // it long after, by when the events that followed it would seem to come before it.
      enter(journey, parsed.data, Math.min(event.timestamp, event.receivedAt ?? event.timestamp));
      break;
    }
    case 'timer': {
      const record = instances.get(event.instanceId);
      const sendId = event.sendId ?? (record && sendIdOf(record, event.id));
      // A timer whose job id is no longer on the instance was cancelled or already fired: xstate
      // would still take it if the state happens to be active again, so it is dropped here.
      if (!record || record.status !== 'active' || sendId === undefined || record.timers[sendId] !== event.id)
        break;
      const timers = { ...record.timers };
      delete timers[sendId];
      const consumed = withLocalWaits({ ...record, timers }, pendingLocalWaits(record.localWaits, timers));
      const journey = catalog.version(record.journeyId, record.journeyVersion);
      try {
        put(
          stepInstance(
            journey,
            customer.customerId,
            consumed,
            customer.profile,
            { type: event.eventType ?? sendId },
            now,
            catalog.timezone,
          ) ?? { record: consumed, commands: [] },
        );
      } catch (error) {
        // The timer is spent and cannot be replayed, so an instance that cannot take it would wait
        // forever: it fails, visibly, with the reason.
        const reason = `timer ${sendId} could not be applied: ${(error as Error).message}`;
        put(
          finish(
            { ...consumed, status: 'failed', error: reason, rev: consumed.rev + 1, updatedAt: now },
            'error',
          ),
        );
      }
      break;
    }
  }
  pruneFinished(instances, result, catalog.keepFinished);
  return result;

  /** The next entry number of the journey: one more than the highest the customer has had. */
  function nextSeq(journeyId: string): number {
    return (
      [...instances.values()]
        .filter((record) => record.journeyId === journeyId)
        .reduce((max, record) => Math.max(max, record.seq), customer.seqFloor ?? 0) + 1
    );
  }

  /**
   * The version of `latest`'s journey the next entry takes: the latest, unless a run of this step
   * that died before its commit entered it in another, still loaded (see pinnedEntries).
   */
  function entryVersion(latest: Journey): Journey {
    const pinned = customer.pinnedEntries?.[instanceId(latest.id, nextSeq(latest.id))];
    if (pinned === undefined || pinned === latest.version) return latest;
    return catalog.loadedVersion(latest.id, pinned) ?? latest;
  }

  function enter(journey: Journey, trigger: unknown, triggeredAt: number) {
    const previous = [...instances.values()].filter((record) => record.journeyId === journey.id);
    const blocked =
      (journey.reentry === 'never' && previous.length > 0) ||
      (journey.reentry === 'after-exit' && previous.some((record) => record.status === 'active'));
    if (blocked) {
      result.notes.push({
        kind: 'not-entered',
        journeyId: journey.id,
        reason: `re-entry policy "${journey.reentry}"`,
      });
      return;
    }
    const seq = nextSeq(journey.id);
    const id = instanceId(journey.id, seq);
    try {
      const entered = enterInstance(
        journey,
        customer.customerId,
        id,
        seq,
        trigger,
        result.customer.profile,
        now,
        catalog.timezone,
        triggeredAt,
      );
      // Noted before put(), which notes the exit of an instance that ends as it enters (a holdout
      // sent to a final state at once): the entry comes first.
      result.notes.push({ kind: 'entered', journeyId: journey.id, instanceId: id });
      put(entered);
    } catch (error) {
      result.notes.push({ kind: 'rejected', journeyId: journey.id, reason: (error as Error).message });
    }
  }
}

/**
 * Keeps the `keep` most recent finished instances of each journey: without a limit a customer
 * who re-enters often (a journey per order) would grow without bound, and every step loads every
 * instance. Every journey is looked at on every step, not only one that finished in it, so a
 * lowered `keepFinished` reaches each customer at their next event. The newest finished one
 * always stays, which the re-entry policy `never` and the next entry's number (one more than the
 * highest) rely on.
 */
function pruneFinished(instances: Map<string, InstanceRecord>, result: StepResult, keep: number): void {
  const finishedBy = new Map<string, InstanceRecord[]>();
  for (const record of instances.values()) {
    if (record.status === 'active') continue;
    const finished = finishedBy.get(record.journeyId);
    if (finished) finished.push(record);
    else finishedBy.set(record.journeyId, [record]);
  }
  for (const finished of finishedBy.values()) {
    if (finished.length <= keep) continue;
    for (const record of finished.sort((a, b) => b.seq - a.seq).slice(keep)) {
      instances.delete(record.id);
      result.pruned.push(record);
    }
  }
}

function activeInstances(instances: ReadonlyMap<string, InstanceRecord>): InstanceRecord[] {
  return [...instances.values()]
    .filter((record) => record.status === 'active')
    .sort((a, b) => a.enteredAt - b.enteredAt || a.seq - b.seq);
}

function applyTrack(
  journey: Journey,
  record: InstanceRecord,
  profile: Record<string, unknown>,
  event: TrackEvent,
  now: number,
  notes: Note[],
  defaultTimezone: string,
): { record: InstanceRecord; commands: Command[] } | undefined {
  // Delivered late, from before the customer entered (an SDK's batch sent hours after): as in
  // Braze or Customer.io, only what they do once in the journey converts, ends or moves them.
  if (record.triggeredAt !== undefined && event.timestamp < record.triggeredAt) return undefined;
  const isGoal = journey.goal?.event === event.name;
  const exits = journey.exitOn.includes(event.name);
  // Own keys only: an event named `constructor` or `toString` is not a declared event.
  const schema = Object.hasOwn(journey.events, event.name) ? journey.events[event.name] : undefined;
  if (!schema && !isGoal && !exits) return undefined;
  let properties: unknown = event.properties;
  let valid = true;
  if (schema) {
    const parsed = schema.safeParse(event.properties);
    valid = parsed.success;
    // An exit event ends the instance whatever its properties; the machine never reads them.
    if (parsed.success) properties = parsed.data;
    else if (!exits)
      throw new Error(
        `event "${event.name}" does not match its schema: ${formatIssues(parsed.error.issues, 'properties')}`,
      );
  }
  let current = record;
  let converted = false;
  // A goal whose properties break its schema does not convert, exit event or not: it is the
  // same order the journey refuses when it is not an exit event.
  if (isGoal && valid && record.convertedAt === undefined) {
    current = { ...record, convertedAt: now, convertedAtRev: record.rev, updatedAt: now };
    converted = true;
    const revenue = readRevenue(revenueOf(properties, event.properties));
    notes.push({
      kind: 'converted',
      journeyId: record.journeyId,
      instanceId: record.id,
      // When it happened, but never after it was applied: a caller's clock running ahead (or a
      // timestamp a year out) would date it past every report period until then.
      at: Math.min(event.timestamp, now),
      ...(revenue === undefined ? {} : { revenue }),
    });
  }
  // The goal listed in `exitOn` too still converts (the conversion is what the journey is for);
  // the instance then ends without the machine reacting, as for any exit event.
  if (exits) return finish({ ...current, rev: current.rev + 1, updatedAt: now }, `exit:${event.name}`);
  const stepped = stepInstance(
    journey,
    event.customerId,
    current,
    profile,
    { type: event.name, properties, timestamp: event.timestamp },
    now,
    defaultTimezone,
  );
  const update = stepped ?? (converted ? { record: current, commands: [] } : undefined);
  // Leaving is a revision of its own when the machine did not step on the goal: the sends the
  // instance made before are then older than its end, and are not sent (journey-exit.ts).
  if (isGoal && journey.goal?.exit && update && update.record.status === 'active')
    return finish(
      stepped ? update.record : { ...update.record, rev: update.record.rev + 1, updatedAt: now },
      'goal',
      update.commands,
    );
  if (isGoal && journey.goal?.exit && !update)
    return finish({ ...current, rev: current.rev + 1, updatedAt: now }, 'goal');
  return update;
}

/**
 * The goal event's `revenue` as its schema parsed it (which may have read it from a string), or as
 * sent when the schema has no `revenue` of its own: a schema declared for the event's other
 * properties (a plain `z.object`, which strips the keys it does not name) would otherwise drop it.
 */
function revenueOf(parsed: unknown, sent: Record<string, unknown>): unknown {
  if (typeof parsed === 'object' && parsed !== null && Object.hasOwn(parsed, 'revenue'))
    return (parsed as { revenue?: unknown }).revenue;
  return Object.hasOwn(sent, 'revenue') ? sent.revenue : undefined;
}
