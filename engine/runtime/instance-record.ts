import type { StateValue } from 'xstate';
import type { Stage } from '../journey/stage.js';

/** The version of the instance records this code writes, and the newest it reads. */
export const INSTANCE_RECORD_VERSION = 1 as const;

/**
 * One customer's run through one journey, as persisted. The machine's context is stored without
 * the profile, which is refreshed from the customer's traits before every event.
 */
export interface InstanceRecord {
  v: typeof INSTANCE_RECORD_VERSION;
  /** `<journeyId>.<seq>`: seq counts this customer's entries into the journey. */
  id: string;
  journeyId: string;
  /** The version the customer started on; they finish on it. */
  journeyVersion: number;
  seq: number;
  status: 'active' | 'done' | 'failed';
  /** For finished instances: the final state's name, `goal`, or `exit:<event>`. */
  exitReason?: string;
  value: StateValue;
  context: Record<string, unknown>;
  /** The instance version number: one more for every transition it has taken. */
  rev: number;
  /** Pending xstate delays: xstate send id to the BullMQ job id that will deliver it. */
  timers: Record<string, string>;
  /**
   * The pending waits until a local time (`j.atLocalTime`): xstate send id to the journey time the
   * wait began, when its state was entered. A change of the customer's time zone moves the wait to
   * the same local time in the new zone, counted from there (local-time-move.ts). Absent when there
   * is none, and on timers set before it was kept.
   */
  localWaits?: Record<string, number>;
  state: string;
  stage: Stage;
  /**
   * The furthest stage the instance has been in after any event: the funnel counts it there and
   * in every stage before, once, wherever it moves after. Absent on records written before it
   * was kept; their `stage` stands in for it.
   */
  reached?: Stage;
  enteredAt: number;
  /**
   * When the customer did what entered them: the trigger's timestamp, never later than
   * `enteredAt`. An event that happened before it (a late-delivered order from before they
   * entered) is not one of this instance's: it does not convert, end or move it. Absent on
   * records written before it was kept.
   */
  triggeredAt?: number;
  updatedAt: number;
  convertedAt?: number;
  /**
   * The revision the instance was at when it reached the goal, before any step the goal took: its
   * sends of this revision or earlier were made before the goal, and one made with
   * `cancelOnGoal` that is still waiting then is not sent (journey-goal.ts). Absent on records
   * that converted before it was kept; their sends are compared by time with `convertedAt`.
   */
  convertedAtRev?: number;
  error?: string;
}

/** Everything the runtime needs to know about one customer to apply an event. */
export interface CustomerState {
  customerId: string;
  profile: Record<string, unknown>;
  instances: ReadonlyMap<string, InstanceRecord>;
  /**
   * Entries number above this: an erased incarnation of the customer reached it, and ids made
   * from its instance ids (timer jobs, sends) may still exist for a while (see customer-erasure.ts).
   */
  seqFloor?: number;
  /**
   * The journey version each instance was entered in (by instance id) by a run of this step that
   * died before its commit: its sends and timers, made from the instance's id, are in the queues,
   * so the re-run enters the same version while it is loaded, whatever the latest is now.
   */
  pinnedEntries?: Readonly<Record<string, number>>;
}

export function instanceId(journeyId: string, seq: number): string {
  return `${journeyId}.${seq}`;
}

/** The entry number an instance id (`<journeyId>.<seq>`) ends in; 0 for an id of another shape. */
export function seqOfInstanceId(id: string): number {
  const seq = Number(id.slice(id.lastIndexOf('.') + 1));
  return Number.isSafeInteger(seq) && seq > 0 ? seq : 0;
}

/** The xstate send id a pending timer job delivers, from the instance's `timers`; `undefined` once it is not pending. */
export function sendIdOf(record: InstanceRecord, jobId: string): string | undefined {
  for (const [sendId, pending] of Object.entries(record.timers)) if (pending === jobId) return sendId;
  return undefined;
}

/** The `localWaits` of the timers still pending in `timers`; `undefined` for none. */
export function pendingLocalWaits(
  localWaits: Readonly<Record<string, number>> | undefined,
  timers: Readonly<Record<string, string>>,
): Record<string, number> | undefined {
  if (localWaits === undefined) return undefined;
  const kept = Object.entries(localWaits).filter(([sendId]) => Object.hasOwn(timers, sendId));
  return kept.length > 0 ? Object.fromEntries(kept) : undefined;
}

/** A record with `localWaits` set to `localWaits`, or without the field when it is `undefined`. */
export function withLocalWaits(
  record: InstanceRecord,
  localWaits: Record<string, number> | undefined,
): InstanceRecord {
  const { localWaits: _old, ...rest } = record;
  return localWaits === undefined ? rest : { ...rest, localWaits };
}

/** The furthest stage an instance has reached (see `reached`). */
export function reachedStage(record: InstanceRecord): Stage {
  return record.reached ?? record.stage;
}
