import type { AnyStateMachine, AnyStateNode } from 'xstate';
import { parseDuration } from '../duration.js';
import { parseLocalTime, type LocalTime } from '../local-time.js';

/** An `after` key that waits until a time of day on the customer's clock: `"10:00 local"`. */
export type LocalTimeDelay = `${number}:${number} local`;
export const LOCAL_TIME_SUFFIX = ' local';

/** Every state node of a machine, the root excluded, depth first. */
export function allStateNodes(machine: AnyStateMachine): AnyStateNode[] {
  const nodes: AnyStateNode[] = [];
  const visit = (node: AnyStateNode) => {
    for (const child of Object.values(node.states) as AnyStateNode[]) {
      nodes.push(child);
      visit(child);
    }
  };
  visit(machine.root);
  return nodes;
}

/**
 * The nodes whose actions can run: the machine's root (its own transitions, `on` beside
 * `states`, are taken from any state) and every state.
 */
export function nodesThatAct(machine: AnyStateMachine): AnyStateNode[] {
  return [machine.root, ...allStateNodes(machine)];
}

/** How problems name the machine's root, whose own transitions (`on` beside `states`) any state takes. */
const ROOT_STATE = '(root)';

/** A state's readable path, e.g. `consideration.waiting`; the machine's root is `(root)`. */
export function statePath(node: AnyStateNode): string {
  return node.path.length === 0 ? ROOT_STATE : node.path.join('.');
}

export interface ActionRef {
  type: string;
  params: unknown;
}

/** Every action a state can run, as written: entry, exit, and those of its transitions. */
export function allActionsOf(node: AnyStateNode): unknown[] {
  const transitions = [...node.transitions.values()].flat();
  return [
    ...node.entry,
    ...node.exit,
    ...transitions.flatMap((transition) => transition.actions),
    ...(node.always ?? []).flatMap((transition) => transition.actions),
  ];
}

/** The parameterised actions a state can run: entry, exit, and those of its transitions. */
export function actionsOf(node: AnyStateNode): ActionRef[] {
  return allActionsOf(node).filter(
    (action): action is ActionRef =>
      typeof action === 'object' &&
      action !== null &&
      typeof (action as { type?: unknown }).type === 'string',
  );
}

/**
 * The named delays of the delayed `raise(event, { delay: '2d' })` actions a state can run, but
 * those xstate adds on entry for the state's own `after` waits (which raise the wait's event,
 * under its event type as id): `resolveDelays` reads those as waits.
 */
function raiseDelaysOf(node: AnyStateNode): string[] {
  const waits = new Set(node.after.map(({ eventType }) => eventType));
  return allActionsOf(node).flatMap((action) => {
    if (typeof action !== 'function' && (typeof action !== 'object' || action === null)) return [];
    const { type, delay, id } = action as { type?: unknown; delay?: unknown; id?: unknown };
    if (type !== 'xstate.raise' || typeof delay !== 'string') return [];
    return typeof id === 'string' && waits.has(id) ? [] : [delay];
  });
}

/**
 * xstate leaves named delays such as `"2d"` (of `after` keys, and of a delayed `raise`) to the
 * machine's implementation and, when it finds none, fires the transition (or raises) at once. This reads every `after` key as a duration and provides it,
 * so `after: { '2d': ... }` means two days; keys that cannot be read are returned as problems.
 * A local-time key (`"10:00 local"`) depends on the customer and the moment the state is entered:
 * xstate gets a placeholder, and the runtime computes the wait from `localTimeWaits`.
 */
export function resolveDelays(machine: AnyStateMachine): {
  machine: AnyStateMachine;
  problems: Array<{ state: string; delay: string; message: string }>;
  localTimeWaits: Record<string, LocalTime>;
} {
  const delays: Record<string, number> = {};
  const problems: Array<{ state: string; delay: string; message: string }> = [];
  const localTimeWaits: Record<string, LocalTime> = {};
  const provided = (machine.implementations.delays ?? {}) as Record<string, unknown>;
  // The root too: a wait on the machine itself (`after` beside `states`) runs whatever the state.
  for (const node of nodesThatAct(machine)) {
    const state = statePath(node);
    for (const { delay, eventType } of node.after) {
      if (typeof delay === 'number' || typeof delay === 'function' || delay in provided) continue;
      if (delay.endsWith(LOCAL_TIME_SUFFIX)) {
        const time = parseLocalTime(delay.slice(0, -LOCAL_TIME_SUFFIX.length));
        if (time) {
          delays[delay] = 0;
          localTimeWaits[eventType] = time;
        } else {
          problems.push({
            state,
            delay,
            message:
              'that is not a local time. To fix: write "HH:MM local" on a 24-hour clock, such as "09:30 local".',
          });
        }
        continue;
      }
      try {
        delays[delay] = parseDuration(delay);
      } catch (error) {
        problems.push({ state, delay, message: (error as Error).message });
      }
    }
    // xstate looks a delayed `raise`'s named delay up the same way, and raises at once without it.
    // A local time is refused before looking for the delay among those already read: an `after`
    // wait on the same local time (in this state or another) provides it only as a placeholder,
    // which the runtime replaces for that wait's own timer alone, so the raise would come at once.
    for (const delay of raiseDelaysOf(node)) {
      if (delay in provided) continue;
      if (delay.endsWith(LOCAL_TIME_SUFFIX)) {
        problems.push({
          state,
          delay,
          message:
            'a raised event cannot wait until a local time. To fix: wait with `after: { [j.atLocalTime(…)]: … }` instead.',
        });
        continue;
      }
      if (delay in delays) continue;
      try {
        delays[delay] = parseDuration(delay);
      } catch (error) {
        problems.push({ state, delay, message: (error as Error).message });
      }
    }
  }
  return {
    machine: Object.keys(delays).length > 0 ? machine.provide({ delays }) : machine,
    problems,
    localTimeWaits,
  };
}
