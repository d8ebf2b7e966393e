import { isStage, STAGES } from './stage.js';
import type { AnyStateNode } from 'xstate';
import { actionsOf, allActionsOf, allStateNodes, nodesThatAct, statePath } from './machine-walk.js';
import { SEND_ACTION, SPLIT_GUARD, type Journey, type SendParams } from './define-journey.js';
import { Channel } from './journey-schema.js';

/** Anything that can say whether a core message exists. */
export interface MessageCatalog {
  has(messageId: string): boolean;
  /** The folder the messages were read from, for the fix of a missing one; default `templates`. */
  readonly folder?: string;
}

/** One thing wrong with a journey, located and with its fix. */
export interface JourneyProblem {
  journey: string;
  state?: string;
  message: string;
}

/**
 * Checks what xstate cannot: one stage tag per state, messages that exist, delays that parse.
 * Returns every problem rather than the first, so `chorus validate` can list them all.
 */
export function validateJourney(journey: Journey, messages: MessageCatalog): JourneyProblem[] {
  const label = `${journey.id}@${journey.version}`;
  const problems: JourneyProblem[] = [];
  const reaching = eventsReaching(journey);
  const entered = statesEntered(journey);
  // A state below an `initial` xstate cannot read would be named as never entered too: only the
  // `initial` is.
  const unreadInitial = nodesThatAct(journey.machine).some((node) => initialOf(node) instanceof Error);
  // The root too: its own transitions (`on` beside `states`) are taken from any state, and an
  // actor it invokes runs for the whole journey. Only states carry a stage or can be history.
  for (const node of nodesThatAct(journey.machine)) {
    const state = statePath(node);
    const isRoot = node === journey.machine.root;
    const stages = node.tags.filter(isStage);
    if (!isRoot && stages.length !== 1) {
      problems.push({
        journey: label,
        state,
        message:
          stages.length === 0
            ? node.tags.length > 0
              ? // A misspelt stage ('awarness') is a tag like any other: say so, or the fix reads as already done.
                `State "${state}" has no stage tag: its tags (${node.tags.join(', ')}) are none of ${STAGES.join(', ')}. To fix: correct the one meant as its stage, or add one of those.`
              : `State "${state}" has no stage tag. To fix: add tags: '${STAGES[0]}' (one of ${STAGES.join(', ')}).`
            : `State "${state}" has ${stages.length} stage tags (${stages.join(', ')}). To fix: keep exactly one.`,
      });
    }
    if (node.invoke.length > 0) {
      problems.push({
        journey: label,
        state,
        message: `State "${state}" invokes an actor, which a persisted journey cannot restore. To fix: send messages and wait for events instead.`,
      });
    }
    if (node.type === 'parallel') {
      problems.push({
        journey: label,
        state,
        message: `State "${state}" is parallel: a customer would be in several states at once, but an instance is in one state and one stage, which its counts, the funnel and the stage of each send are read from. To fix: make it a compound state whose children follow one another, or run the parallel part as a journey of its own.`,
      });
    }
    if (node.type === 'history') {
      problems.push({
        journey: label,
        state,
        message: `State "${state}" is a history state, which a persisted journey cannot restore. To fix: target the state explicitly.`,
      });
    }
    if (builtInActions(node).includes('xstate.spawnChild')) {
      problems.push({
        journey: label,
        state,
        message: `State "${state}" spawns an actor (spawnChild), which a persisted journey never runs and cannot restore. To fix: send messages and wait for events instead.`,
      });
    }
    for (const raised of delayedRaisesWithPayload(node)) {
      problems.push({
        journey: label,
        state,
        message: `State "${state}" raises ${raised} after a delay, but a delayed event comes back as its type alone: the rest would be lost when its timer fires. To fix: raise a fixed { type } and keep what it carried in data with assign.`,
      });
    }
    if (builtInActions(node).includes('xstate.enqueueActions')) {
      problems.push({
        journey: label,
        state,
        message: `State "${state}" runs enqueueActions, whose sends and waits are chosen only as it runs: loading cannot check their messages, channels and templates, nor draw them. To fix: write each choice as a guarded transition with its own j.send (or its \`after\` wait), and change data with assign.`,
      });
    }
    const initial = initialOf(node);
    if (initial instanceof Error) {
      problems.push({
        journey: label,
        state,
        message: `${node.path.length === 0 ? 'The machine' : `State "${state}"`} starts in a state it does not have: \`initial\` is ${JSON.stringify(node.config.initial)}, and its states are ${Object.keys(
          node.states,
        )
          .map((name) => JSON.stringify(name))
          .join(', ')}. To fix: name one of them in \`initial\`.`,
      });
    }
    if (!isRoot && !unreadInitial && !entered.has(node)) {
      problems.push({
        journey: label,
        state,
        message: `State "${state}" is never entered: it is not an initial state, and no transition leads to it. To fix: add the transition that should lead to it (a target misspelt elsewhere would be refused, so one may be missing), or remove the state.`,
      });
    }
    if (branchesWithoutDefault(node)) {
      problems.push({
        journey: label,
        state,
        message: `State "${state}" branches with \`always\`, every branch guarded, and has no other way out: a customer no guard takes stays in it for ever. To fix: end the list with a branch without a guard, { target: … }, the default; or give the state an \`on\` or \`after\` to leave by.`,
      });
    }
    const ended = endsOnlyItsParent(node);
    if (ended) {
      const parent = statePath(ended);
      problems.push({
        journey: label,
        state,
        message: `State "${state}" is final, but it ends only its parent "${parent}", which has no onDone, nor any \`on\` or \`after\` around it to leave by: a customer reaching it stays in it for ever, never exiting the journey (nor entering it again, under the re-entry policy). To fix: give "${parent}" an onDone naming where the customer goes next (a top-level final state ends the journey), or move the state to the top level.`,
      });
    }
    problems.push(...sendProblems(label, state, node, messages, journey.goal !== undefined));
    for (const message of unheardEvents(journey, node, reaching))
      problems.push({ journey: label, state, message });
  }
  for (const cycle of eventlessLoops(journey)) {
    const names = cycle.map((node) => `"${statePath(node)}"`);
    problems.push({
      journey: label,
      state: statePath(cycle[0]!),
      message:
        (cycle.length === 1
          ? `State ${names[0]} takes its own \`always\` transition again and again, as its first has no guard and changes the context without leaving`
          : `States ${[...names, names[0]].join(' → ')} hand a customer on to one another without waiting, as each one's first \`always\` transition has no guard`) +
        ': a customer entering would loop for ever, and the worker stepping them with them. To fix: give one of those transitions a guard that ends the loop, or wait (`after`) in between.',
    });
  }
  for (const { state, delay, message } of journey.delayProblems) {
    problems.push({
      journey: label,
      state,
      message: `State "${state}" waits for ${JSON.stringify(delay)}: ${message}`,
    });
  }
  return problems;
}

/**
 * Whether a state is a branch (`always`) that may take no branch and has nothing else to leave
 * by: no event, no wait, in it or in a state around it. xstate leaves a customer whom no guard
 * takes in the state, looking at its guards again only when some other event reaches the
 * journey. A split's arms (j.split) share every customer out between them, so they are a default.
 */
function branchesWithoutDefault(node: AnyStateNode): boolean {
  const always = node.always ?? [];
  if (node.type !== 'atomic' || always.length === 0) return false;
  if (always.some(({ guard }) => guard === undefined || (guard as { type?: unknown }).type === SPLIT_GUARD))
    return false;
  for (let around: AnyStateNode | undefined = node; around; around = around.parent) {
    if (around.transitions.size > 0) return false;
    if (around !== node && (around.always ?? []).length > 0) return false;
  }
  return true;
}

/**
 * The parent of a final state nested in a compound one, when nothing takes a customer on from it:
 * such a state ends only its parent (xstate raises the parent's done event, which an `onDone`
 * takes), not the journey, and with no `onDone` and no event or wait around it the customer's
 * instance stays active in it, with no timer left, as a branch no guard takes would. A final
 * state in a parallel state's region is not looked at: parallel states are refused.
 */
function endsOnlyItsParent(node: AnyStateNode): AnyStateNode | undefined {
  const parent = node.parent;
  if (node.type !== 'final' || parent?.parent === undefined) return undefined;
  for (let around: AnyStateNode | undefined = parent; around; around = around.parent) {
    if (around.type === 'parallel') return undefined;
    if (around.transitions.size > 0 || (around.always ?? []).length > 0) return undefined;
  }
  return parent;
}

/**
 * The states a compound state starts in (a parallel one: all of its own), or what xstate says is wrong with its `initial`: it
 * reads it only when a customer enters, and one that names no state of its own would refuse
 * every customer.
 */
function initialOf(node: AnyStateNode): readonly AnyStateNode[] | Error {
  try {
    if (node.type === 'parallel') return Object.values(node.states) as AnyStateNode[];
    return node.type === 'compound' ? (node.initial?.target ?? []) : [];
  } catch (error) {
    return error instanceof Error ? error : new Error(String(error));
  }
}

/**
 * The loops a customer would go round for ever in one step: states whose first `always`
 * transition has no guard, so xstate takes it whenever they are entered, each leading to the
 * next (or staying, and changing the context). xstate has no bound on such a loop.
 */
function eventlessLoops(journey: Journey): AnyStateNode[][] {
  /** Where a state's forced `always` leads: the state a customer would be in next, or none. */
  const forced = (node: AnyStateNode): AnyStateNode | undefined => {
    const first = node.type === 'atomic' ? node.always?.[0] : undefined;
    if (!first || first.guard !== undefined) return undefined;
    // Staying put ends the loop, unless the transition changes the context, which xstate takes
    // as a change to look at the `always` transitions again after.
    if ((first.target?.[0] ?? node) === node)
      return first.actions.some((action) => (action as { type?: unknown }).type === 'xstate.assign')
        ? node
        : undefined;
    let next: AnyStateNode = first.target![0]!;
    for (let initial = initialOf(next); !(initial instanceof Error) && initial[0]; initial = initialOf(next))
      next = initial[0];
    return next;
  };
  const loops: AnyStateNode[][] = [];
  const looked = new Set<AnyStateNode>();
  for (const start of allStateNodes(journey.machine)) {
    const path: AnyStateNode[] = [];
    let node: AnyStateNode | undefined = start;
    while (node && !looked.has(node) && !path.includes(node)) {
      path.push(node);
      node = forced(node);
    }
    if (node && path.includes(node)) loops.push(path.slice(path.indexOf(node)));
    for (const seen of path) looked.add(seen);
  }
  return loops;
}

/**
 * The states a customer can be in: from the initial state, those every transition of a state
 * entered (or of a state around it) leads to, with the states around each and the initial
 * states within. Guards are not read: any transition may be taken.
 */
function statesEntered(journey: Journey): Set<AnyStateNode> {
  const entered = new Set<AnyStateNode>();
  const waiting: AnyStateNode[] = [journey.machine.root];
  const enter = (node: AnyStateNode | undefined) => {
    for (let around = node; around && !entered.has(around); around = around.parent) {
      entered.add(around);
      waiting.push(around);
    }
  };
  for (let node = waiting.pop(); node; node = waiting.pop()) {
    entered.add(node);
    const initial = initialOf(node);
    if (!(initial instanceof Error)) for (const target of initial) enter(target);
    const transitions = [...[...node.transitions.values()].flat(), ...(node.always ?? [])];
    for (const transition of transitions) for (const target of transition.target ?? []) enter(target);
  }
  return entered;
}

/**
 * The events a journey's machine is handed: its declared events and its goal, as they arrive,
 * and the events it raises itself. `undefined` when a raise computes its event, which may then
 * be any.
 */
function eventsReaching(journey: Journey): Set<string> | undefined {
  const names = new Set(Object.keys(journey.events));
  if (journey.goal) names.add(journey.goal.event);
  for (const node of nodesThatAct(journey.machine))
    for (const action of allActionsOf(node)) {
      if (typeof action !== 'function') continue;
      const { type, event } = action as { type?: unknown; event?: unknown };
      if (type !== 'xstate.raise') continue;
      if (typeof event === 'function') return undefined;
      const raised = (event as { type?: unknown } | undefined)?.type;
      // xstate raises its own events for `after` waits: no sender can send them, nor name them.
      if (typeof raised === 'string' && !raised.startsWith('xstate.')) names.add(raised);
    }
  return names;
}

/**
 * The transitions of a state on events that never reach its machine: an event the journey does
 * not declare (a misspelt name, in a journey written in JavaScript or cast past the types), which
 * the runtime does not hand to the journey, and one of `exitOn`, which ends the instance first.
 * Either would wait for ever for something that cannot come.
 */
function unheardEvents(journey: Journey, node: AnyStateNode, reaching: Set<string> | undefined): string[] {
  const state = statePath(node);
  const problems: string[] = [];
  for (const name of node.transitions.keys()) {
    // xstate's own (waits, a compound state's onDone) and wildcards, which match what does arrive.
    if (name.startsWith('xstate.') || name === '*' || name.endsWith('.*')) continue;
    if (journey.exitOn.includes(name))
      problems.push(
        `State "${state}" reacts to "${name}", which is in exitOn: the instance ends on it before the machine sees it. To fix: take "${name}" out of exitOn and end the journey on it with a final state, or drop the transition.`,
      );
    else if (reaching !== undefined && !reaching.has(name))
      problems.push(
        `State "${state}" reacts to "${name}", which the journey does not declare, so it never reaches the machine. To fix: correct the name, or add it to events with the schema of its properties (declared: ${[...reaching].map((e) => JSON.stringify(e)).join(', ') || 'none'}).`,
      );
  }
  return problems;
}

/** The types of the xstate built-in actions (`raise`, `spawnChild`, …) a state can run. */
function builtInActions(node: AnyStateNode): string[] {
  return allActionsOf(node).flatMap((action) => {
    const type = typeof action === 'function' ? (action as { type?: unknown }).type : undefined;
    return typeof type === 'string' ? [type] : [];
  });
}

/**
 * The delayed raises of a state whose event is more than a fixed type (an expression, or an
 * object with other fields), described: its timer fires with the type alone.
 */
function delayedRaisesWithPayload(node: AnyStateNode): string[] {
  return allActionsOf(node).flatMap((action) => {
    if (typeof action !== 'function') return [];
    const { type, event, delay } = action as { type?: unknown; event?: unknown; delay?: unknown };
    if (type !== 'xstate.raise' || delay === undefined) return [];
    if (typeof event === 'function') return ['an event computed by a function'];
    if (typeof event !== 'object' || event === null) return [];
    const fields = Object.keys(event).filter((key) => key !== 'type');
    const name = JSON.stringify((event as { type?: unknown }).type);
    return fields.length > 0 ? [`${name} with ${fields.join(', ')}`] : [];
  });
}

/** What is wrong with the sends of one state (or of the machine's root, whose transitions any state takes). */
function sendProblems(
  label: string,
  state: string,
  node: AnyStateNode,
  messages: MessageCatalog,
  hasGoal: boolean,
): JourneyProblem[] {
  const problems: JourneyProblem[] = [];
  for (const action of actionsOf(node)) {
    if (action.type !== SEND_ACTION) continue;
    const params = action.params as SendParams;
    if (!messages.has(params.message)) {
      problems.push({
        journey: label,
        state,
        message: `State "${state}" sends message "${params.message}", which does not exist. To fix: add ${messages.folder ?? 'templates'}/${params.message}/ or correct the id.`,
      });
    }
    if (params.channels.length === 0) {
      problems.push({
        journey: label,
        state,
        message: `State "${state}" sends "${params.message}" on no channel. To fix: list at least one.`,
      });
    }
    if (params.whenCapped !== undefined && params.whenCapped !== 'wait' && params.whenCapped !== 'skip') {
      problems.push({
        journey: label,
        state,
        message: `State "${state}" sends "${params.message}" with whenCapped ${JSON.stringify(params.whenCapped)}. To fix: use 'wait' or 'skip'.`,
      });
    }
    const cancelOnGoal = params.cancelOnGoal as unknown;
    if (cancelOnGoal !== undefined && typeof cancelOnGoal !== 'boolean') {
      problems.push({
        journey: label,
        state,
        message: `State "${state}" sends "${params.message}" with cancelOnGoal ${JSON.stringify(cancelOnGoal)}. To fix: use true or false.`,
      });
    } else if (cancelOnGoal === true && !hasGoal) {
      // Without a goal nothing would ever cancel it: the author meant something the journey does not say.
      problems.push({
        journey: label,
        state,
        message: `State "${state}" sends "${params.message}" with cancelOnGoal, but the journey has no goal, so nothing would cancel it. To fix: declare the goal, goal: { event: 'Order Completed' }, or drop cancelOnGoal.`,
      });
    }
    const twice = params.channels.filter((channel, i) => params.channels.indexOf(channel) !== i);
    if (twice.length > 0)
      problems.push({
        journey: label,
        state,
        message: `State "${state}" sends "${params.message}" on ${[...new Set(twice)].join(', ')} more than once. To fix: list each channel once; a send falls back along the list in order.`,
      });
    for (const channel of params.channels) {
      if (!Channel.safeParse(channel).success) {
        problems.push({
          journey: label,
          state,
          message: `State "${state}" sends "${params.message}" on unknown channel "${channel}". To fix: use one of ${Channel.options.join(', ')}.`,
        });
      }
    }
  }
  // A state may send one message from several transitions (each arm of a guard): the same
  // problem is told once.
  return problems.filter(
    (problem, index) => problems.findIndex((other) => other.message === problem.message) === index,
  );
}
