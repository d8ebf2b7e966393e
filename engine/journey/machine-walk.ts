import type { AnyStateMachine, AnyStateNode } from 'xstate';
import { parseDuration } from '../duration.js';

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

/** A state's readable path, e.g. `consideration.waiting`. */
export function statePath(node: AnyStateNode): string {
  return node.path.join('.');
}

export interface ActionRef {
  type: string;
  params: unknown;
}

/** The parameterised actions a state can run: entry, exit, and those of its transitions. */
export function actionsOf(node: AnyStateNode): ActionRef[] {
  const transitions = [...node.transitions.values()].flat();
  const candidates: unknown[] = [
    ...node.entry,
    ...node.exit,
    ...transitions.flatMap((transition) => transition.actions),
    ...(node.always ?? []).flatMap((transition) => transition.actions),
  ];
  return candidates.filter(
    (action): action is ActionRef =>
      typeof action === 'object' &&
      action !== null &&
      typeof (action as { type?: unknown }).type === 'string',
  );
}

/**
 * xstate leaves named delays such as `"2d"` to the machine's implementation and, when it finds
 * none, fires the transition at once. This reads every `after` key as a duration and provides it,
 * so `after: { '2d': ... }` means two days; keys that cannot be read are returned as problems.
 */
export function resolveDelays(machine: AnyStateMachine): {
  machine: AnyStateMachine;
  problems: Array<{ state: string; delay: string; message: string }>;
} {
  const delays: Record<string, number> = {};
  const problems: Array<{ state: string; delay: string; message: string }> = [];
  const provided = (machine.implementations.delays ?? {}) as Record<string, unknown>;
  for (const node of allStateNodes(machine)) {
    for (const { delay } of node.after) {
      if (typeof delay === 'number' || typeof delay === 'function' || delay in provided) continue;
      try {
        delays[delay] = parseDuration(delay);
      } catch (error) {
        problems.push({ state: statePath(node), delay, message: (error as Error).message });
      }
    }
  }
  return { machine: Object.keys(delays).length > 0 ? machine.provide({ delays }) : machine, problems };
}
