import {
  type AnyMachineSnapshot,
  type AnyStateMachine,
  type AnyStateNode,
  type EventObject,
  type StateValue,
} from 'xstate';
import {
  SEND_ACTION,
  type Journey,
  type JourneyContext,
  type SendParams,
} from '../journey/define-journey.js';
import { statePath } from '../journey/machine-walk.js';
import { isStage, laterStage, type Stage } from '../journey/stage.js';
import { customerTimeZone, localTimeWaitEnd } from '../local-time.js';
import type { Command, SendCommand } from './command.js';
import { sendOpId, timerJobId } from './ids.js';
import {
  INSTANCE_RECORD_VERSION,
  pendingLocalWaits,
  reachedStage,
  withLocalWaits,
  type InstanceRecord,
} from './instance-record.js';
import { pureInitialTransition, pureTransition } from './pure-transition.js';

function asObject(value: unknown): Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : {};
}

export class ProfileMismatchError extends Error {}

/** The nodes a value points at, from the machine's root down to its leaf, as far as the machine has them. */
function activeNodes(machine: AnyStateMachine, value: StateValue): AnyStateNode[] {
  const nodes = [machine.root];
  let current: StateValue = value;
  for (;;) {
    const key = typeof current === 'string' ? current : Object.keys(current)[0];
    const child = key === undefined ? undefined : nodes.at(-1)!.states[key];
    if (!child) break;
    nodes.push(child);
    if (typeof current === 'string') break;
    current = (current as Record<string, StateValue>)[key!]!;
  }
  return nodes;
}

/** The leaf state a value points at, and the stage tag it carries. */
export function locate(machine: AnyStateMachine, value: StateValue): { state: string; stage: Stage } {
  const nodes = activeNodes(machine, value);
  const leaf = nodes.at(-1)!;
  return { state: leaf.path.join('.'), stage: leaf.tags.find(isStage) ?? 'awareness' };
}

/** What xstate names the event of an `after` wait: `xstate.after.<delay>.<state id>`. */
export const AFTER_EVENT = 'xstate.after.';

/**
 * Throws when a fired `after` timer is not one of the waits of the states the instance is in:
 * the version was changed after the customer entered it (the wait's duration, or its local
 * time, edited in place). xstate would take the timer's event as one no state reacts to, and the
 * customer, their timer spent, would stay in the state for ever without a word.
 */
function checkWaitStillThere(journey: Journey, record: InstanceRecord, eventType: string): void {
  if (!eventType.startsWith(AFTER_EVENT)) return;
  const nodes = activeNodes(journey.machine, record.value);
  if (nodes.some((node) => node.after.some((wait) => wait.eventType === eventType))) return;
  // The state that set the wait is one of those the instance is in, as leaving it cancels it.
  const owner = nodes.find((node) => eventType.endsWith(`.${node.id}`));
  const delay = owner ? eventType.slice(AFTER_EVENT.length, -owner.id.length - 1) : eventType;
  const state = statePath(owner ?? nodes.at(-1)!);
  throw new Error(
    `version ${journey.version} of journey ${journey.id} has no wait "${delay}" in state "${state}", which instance ${record.id} was waiting on: ` +
      `the version was changed after customers entered it. To fix: put the wait back in version ${journey.version}, ` +
      'and make the change as a new version, which new entries take while those in flight finish on theirs.',
  );
}

/** The state path a stored value names (`parent.child`), whether the machine has it or not. */
function storedPath(value: StateValue): string {
  const path: string[] = [];
  let current: StateValue | undefined = value;
  while (current !== undefined) {
    if (typeof current === 'string') {
      path.push(current);
      break;
    }
    const key: string | undefined = Object.keys(current)[0];
    if (key !== undefined) path.push(key);
    current = key === undefined ? undefined : current[key];
  }
  return path.join('.');
}

/**
 * The part of the context only this instance knows, as the store keeps it: JSON. The profile is
 * stored once on the customer and the ids are on the record, so neither is stored again in every
 * snapshot. Passing it through JSON here, not only on the way to Redis, gives every next step the
 * context a worker reads back: a Date (from a schema's `z.coerce.date()`, or assigned into data)
 * is its ISO string in the harness too, and in the next event of a worker's batch as in the one
 * after a reload, instead of a Date the journey's tests pass with and the workers then lack.
 */
function persistedContext(context: JourneyContext): Record<string, unknown> {
  const {
    profile: _profile,
    customerId: _customerId,
    instanceId: _instanceId,
    journeyId: _journeyId,
    journeyVersion: _journeyVersion,
    ...own
  } = context;
  let stored: string;
  try {
    stored = JSON.stringify(own);
  } catch (error) {
    throw new Error(
      `the journey's context cannot be stored as JSON (${(error as Error).message}). ` +
        'To fix: keep plain values (strings, numbers, booleans, arrays and objects of them) in its trigger and data.',
      { cause: error },
    );
  }
  return JSON.parse(stored) as Record<string, unknown>;
}

/** The full context of a stored instance, as the machine sees it. */
function fullContext(customerId: string, record: InstanceRecord, profile: unknown): JourneyContext {
  return {
    ...(record.context as Pick<JourneyContext, 'trigger' | 'variants' | 'data'>),
    customerId,
    instanceId: record.id,
    journeyId: record.journeyId,
    journeyVersion: record.journeyVersion,
    profile,
  };
}

/**
 * The traits as the journey's profile schema reads them. A trait the schema cannot read (a phone
 * sent as a number where it expects a string, `vip: "yes"` for a boolean) is read as missing, as a
 * segment filter in Braze or Customer.io treats an attribute of another type: the journey takes its
 * branch for a missing trait, instead of every customer with one such trait being kept out of it,
 * or failing on their next timer. Only a schema that cannot do without them is refused.
 */
function parseProfile(journey: Journey, traits: Record<string, unknown>): unknown {
  let parsed = journey.profile.safeParse(traits);
  if (!parsed.success) {
    const unreadable = new Set(parsed.error.issues.map((issue) => issue.path[0]));
    if ([...unreadable].every((key) => typeof key === 'string' && Object.hasOwn(traits, key))) {
      const readable = Object.fromEntries(Object.entries(traits).filter(([key]) => !unreadable.has(key)));
      const without = journey.profile.safeParse(readable);
      if (without.success) parsed = without;
    }
  }
  if (!parsed.success) {
    const fields = parsed.error.issues.map((i) => `traits.${i.path.join('.')}: ${i.message}`).join('; ');
    throw new ProfileMismatchError(
      `the profile does not match journey ${journey.id}'s profile schema (${fields})`,
    );
  }
  return parsed.data;
}

/** Where and when a step runs: local-time waits are measured on the customer's clock. */
interface StepTime {
  now: number;
  zone: string;
}

/** Turns the actions xstate returned into commands, and keeps the instance's timer table in step. */
function toCommands(
  journey: Journey,
  actions: ReadonlyArray<{ type: string; params?: unknown }>,
  record: InstanceRecord,
  customerId: string,
  located: { state: string; stage: Stage },
  cause: SendCommand['event'],
  { now, zone }: StepTime,
): { commands: Command[]; timers: Record<string, string>; localWaits: Record<string, number> } {
  const commands: Command[] = [];
  const timers = { ...record.timers };
  const localWaits = { ...record.localWaits };
  const variants = (record.context.variants as Record<string, string> | undefined) ?? {};
  let index = 0;
  for (const action of actions) {
    if (action.type === SEND_ACTION) {
      const params = action.params as SendParams;
      commands.push({
        type: 'send',
        opId: sendOpId(customerId, record.id, record.rev, index++),
        customerId,
        journeyId: record.journeyId,
        journeyVersion: record.journeyVersion,
        instanceId: record.id,
        state: located.state,
        stage: located.stage,
        message: params.message,
        channels: params.channels,
        variants,
        trigger: (record.context.trigger as Record<string, unknown> | undefined) ?? {},
        data: (record.context.data as Record<string, unknown> | undefined) ?? {},
        event: cause,
        at: now,
        ...(params.whenCapped === undefined ? {} : { whenCapped: params.whenCapped }),
        ...(params.cancelOnGoal === true ? { cancelOnGoal: true as const } : {}),
      });
    } else if (action.type === 'xstate.raise') {
      const params = action.params as { event: EventObject; id?: string; delay?: number };
      if (params.delay === undefined) continue; // immediate raises were already processed by xstate
      const jobId = timerJobId(customerId, record.id, record.rev, index++);
      // Without an id, xstate gives each delayed raise one of its own, so two of one event (in one
      // step, or one raised again before the first fired) both fire, and neither is cancelled by
      // its type. An `after` has an id: xstate's, the same on every entry of its state.
      const sendId = params.id ?? `${params.event.type}@${jobId}`;
      const localTime = journey.localTimeWaits[params.event.type];
      // Strictly after now: a state entered at 10:00 sharp (by the 10:00 wait of a daily loop,
      // whose timer fires at its due time) waits for tomorrow's, not for the 10:00 it is in, nor
      // for that 10:00 shown again the same night the clocks go back over it.
      const delay = localTime ? localTimeWaitEnd(now, zone, localTime) - now : params.delay;
      timers[sendId] = jobId;
      // Kept so that a change of the customer's zone can move the wait (local-time-move.ts).
      if (localTime) localWaits[sendId] = now;
      else delete localWaits[sendId];
      commands.push({
        type: 'schedule',
        jobId,
        customerId,
        instanceId: record.id,
        sendId,
        eventType: params.event.type,
        dueAt: now + delay,
        delayMs: delay,
      });
    } else if (action.type === 'xstate.cancel') {
      const { sendId } = action.params as { sendId: string };
      const jobId = timers[sendId];
      if (jobId === undefined) continue;
      delete timers[sendId];
      commands.push({ type: 'cancel', jobId });
    }
  }
  return { commands, timers, localWaits };
}

function settle(
  journey: Journey,
  customerId: string,
  before: InstanceRecord,
  snapshot: AnyMachineSnapshot,
  actions: ReadonlyArray<{ type: string; params?: unknown }>,
  cause: SendCommand['event'],
  time: StepTime,
): { record: InstanceRecord; commands: Command[] } {
  const { now } = time;
  const located = locate(journey.machine, snapshot.value);
  const context = persistedContext(snapshot.context as JourneyContext);
  const draft: InstanceRecord = { ...before, rev: before.rev + 1, context };
  const { commands, timers, localWaits } = toCommands(
    journey,
    actions,
    draft,
    customerId,
    located,
    cause,
    time,
  );
  // A new instance (rev 0) has no stage yet: the one it settles in is the first it reaches.
  const reached = before.rev === 0 ? located.stage : laterStage(reachedStage(before), located.stage);
  const record = withLocalWaits(
    { ...draft, value: snapshot.value, timers, ...located, reached, updatedAt: now },
    pendingLocalWaits(localWaits, timers),
  );
  if (snapshot.status === 'done') return finish(record, located.state.split('.').pop() ?? 'done', commands);
  if (snapshot.status === 'error') {
    return finish({ ...record, status: 'failed', error: String(snapshot.error) }, 'error', commands);
  }
  return { record, commands };
}

/** Ends an instance: cancels whatever timers it still has. */
export function finish(
  record: InstanceRecord,
  reason: string,
  commands: Command[] = [],
): { record: InstanceRecord; commands: Command[] } {
  const cancels: Command[] = Object.values(record.timers).map((jobId) => ({ type: 'cancel', jobId }));
  return {
    record: withLocalWaits(
      {
        ...record,
        status: record.status === 'failed' ? 'failed' : 'done',
        exitReason: reason,
        timers: {},
      },
      undefined,
    ),
    commands: [...commands, ...cancels],
  };
}

/**
 * Starts a new instance from the journey's initial state. `defaultTimezone` is the IANA zone of
 * customers whose `timezone` trait names none, for waits until a local time; `triggeredAt` is the
 * timestamp of what entered the customer.
 */
export function enterInstance(
  journey: Journey,
  customerId: string,
  id: string,
  seq: number,
  trigger: unknown,
  traits: Record<string, unknown>,
  now: number,
  defaultTimezone = 'UTC',
  triggeredAt = now,
): { record: InstanceRecord; commands: Command[] } {
  const input: JourneyContext = {
    customerId,
    instanceId: id,
    journeyId: journey.id,
    journeyVersion: journey.version,
    trigger,
    profile: parseProfile(journey, traits),
    variants: {},
    data: journey.data.parse({}) as Record<string, unknown>,
  };
  const [snapshot, actions] = pureInitialTransition(journey.machine, input);
  const blank: InstanceRecord = {
    v: INSTANCE_RECORD_VERSION,
    id,
    journeyId: journey.id,
    journeyVersion: journey.version,
    seq,
    status: 'active',
    value: {},
    context: {},
    rev: 0,
    timers: {},
    state: '',
    stage: 'awareness',
    enteredAt: now,
    // A client's clock may run ahead: a trigger dated after its entry counts from the entry.
    triggeredAt: Math.min(triggeredAt, now),
    updatedAt: now,
  };
  const cause = {
    name: journey.trigger.kind === 'event' ? journey.trigger.event : 'api',
    properties: asObject(trigger),
  };
  return settle(journey, customerId, blank, snapshot, actions, cause, {
    now,
    zone: customerTimeZone(traits, defaultTimezone),
  });
}

/**
 * Applies one event to one instance: rehydrate, transition, persist. Returns `undefined` when
 * the machine did not react, so nothing needs writing.
 */
export function stepInstance(
  journey: Journey,
  customerId: string,
  record: InstanceRecord,
  traits: Record<string, unknown>,
  event: EventObject & Record<string, unknown>,
  now: number,
  defaultTimezone = 'UTC',
): { record: InstanceRecord; commands: Command[] } | undefined {
  // Only a version changed after customers entered it lacks a state they are in; xstate would
  // only say that the state does not exist.
  const stored = storedPath(record.value);
  if (locate(journey.machine, record.value).state !== stored)
    throw new Error(
      `version ${journey.version} of journey ${journey.id} has no state "${stored}", which instance ${record.id} is in: ` +
        'the version was changed after customers entered it. To fix: put the state back in version ' +
        `${journey.version}, and make the change as a new version, which new entries take while those in flight finish on theirs.`,
    );
  checkWaitStillThere(journey, record, event.type);
  const snapshot = journey.machine.resolveState({
    value: record.value,
    context: fullContext(customerId, record, parseProfile(journey, traits)),
  });
  const [next, actions] = pureTransition(journey.machine, snapshot, event);
  // xstate hands back the same snapshot for a transition with no target: its actions (a send on
  // every `Cart Viewed` while the customer stays put) still ran, so only no actions is no reaction.
  if (next === snapshot && actions.length === 0) return undefined;
  const cause = { name: event.type, properties: asObject(event.properties) };
  return settle(journey, customerId, record, next, actions, cause, {
    now,
    zone: customerTimeZone(traits, defaultTimezone),
  });
}
