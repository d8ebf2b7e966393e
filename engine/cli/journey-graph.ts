import type { AnyStateNode } from 'xstate';
import { SEND_ACTION, type Journey, type SendParams } from '../journey/define-journey.js';
import { allStateNodes, statePath } from '../journey/machine-walk.js';
import { isStage, STAGES, type Stage } from '../journey/stage.js';

/** Fill and stroke per stage, so the funnel reads left to right in colour. */
const STAGE_STYLE: Record<Stage, string> = {
  awareness: 'fill:#e0f2fe,stroke:#0369a1',
  consideration: 'fill:#fef9c3,stroke:#a16207',
  decision: 'fill:#ffedd5,stroke:#c2410c',
  loyalty: 'fill:#dcfce7,stroke:#15803d',
};

const ANY_STATE = 'any_state';

/** The event xstate raises when a compound state reaches a final child, which `onDone` takes. */
const DONE_EVENT = 'xstate.done.state.';

/**
 * A Mermaid state id: letters, digits and `_` only, prefixed so no state name is a keyword. `_`
 * is doubled and any other character written as `_<hex code>_`, so two state paths never share
 * an id (`a.b` and `a_b` would both have been `a_b`, drawn as one state).
 */
const idOf = (path: string) =>
  `s_${path.replace(/[^A-Za-z0-9]/g, (char) => (char === '_' ? '__' : `_${char.codePointAt(0)!.toString(16)}_`))}`;

/**
 * Label text: Mermaid reads `:`, `;`, `#` and (in a state's quoted name) `"` itself, and reads
 * `<`, `>` and `&` as HTML (a state `a<b>c` was drawn as `ac`), so they are written as entity
 * codes. A line break would end the statement, so it is a space.
 */
const text = (value: string) =>
  value.replace(/[#:;"<>&]/g, (char) => `#${char.charCodeAt(0)};`).replace(/\r\n|[\r\n]/g, ' ');

interface TransitionLike {
  target?: readonly AnyStateNode[] | undefined;
  guard?: unknown;
  actions: readonly unknown[];
}

function sendsIn(actions: readonly unknown[]): SendParams[] {
  return actions.flatMap((action) =>
    typeof action === 'object' && action !== null && (action as { type?: unknown }).type === SEND_ACTION
      ? [(action as { params: SendParams }).params]
      : [],
  );
}

const describeSend = (send: SendParams) => `${send.message} (${send.channels.join(', ')})`;

function guardLabel(guard: unknown): string | undefined {
  if (guard === undefined) return undefined;
  if (typeof guard === 'string') return `[${guard}]`;
  if (typeof guard === 'object' && guard !== null) {
    const { type, params } = guard as { type?: unknown; params?: { split?: string; variant?: string } };
    if (type === 'chorus.inVariant' && params) return `split ${params.split} = ${params.variant}`;
    if (typeof type === 'string') return `[${type}]`;
  }
  // An inline guard function has no name worth showing.
  return '[guard]';
}

/**
 * The label of each transition of one event: its trigger, its guard (`else` for the unguarded
 * last of several guarded ones) and the messages it sends.
 */
function edgeLabels(trigger: string, transitions: readonly TransitionLike[]): string[] {
  const guarded = transitions.some((t) => t.guard !== undefined);
  return transitions.map((transition) => {
    const guard = guardLabel(transition.guard) ?? (guarded ? 'else' : undefined);
    const sends = sendsIn(transition.actions).map(describeSend);
    return [trigger, guard, sends.length > 0 ? `/ send ${sends.join(', ')}` : undefined]
      .filter((part): part is string => part !== undefined && part !== '')
      .join(' ');
  });
}

function delayLabel(delay: unknown): string {
  return typeof delay === 'number' ? `after ${delay}ms` : `after ${String(delay)}`;
}

/**
 * A journey as a Mermaid `stateDiagram-v2`. Each state shows its stage and the messages it sends
 * on entry or exit, and is coloured by stage (Mermaid cannot draw transitions between states of
 * different composite groups, so stages are classes, not groups). Transitions are labelled with
 * their event, `after <delay>`, or `always`, with guards and the messages they send. Transitions
 * declared on the machine itself, `exitOn` events and an exiting goal apply in every state and
 * start from an "any state" node.
 *
 * @example
 * process.stdout.write(journeyToMermaid(onboarding));
 */
export function journeyToMermaid(
  journey: Journey,
  options: { counts?: Readonly<Record<string, number>> } = {},
): string {
  const machine = journey.machine;
  const lines = ['stateDiagram-v2', `  %% ${journey.id}@${journey.version}`];
  // Every line of the description is a comment: one left bare would be read as a statement.
  if (journey.description)
    for (const line of journey.description.split(/\r\n|[\r\n]/)) lines.push(`  %% ${line}`);
  for (const stage of STAGES) lines.push(`  classDef ${stage} ${STAGE_STYLE[stage]}`);

  const nodes = allStateNodes(machine);
  const byStage = new Map<Stage, string[]>();
  for (const node of nodes) {
    const path = statePath(node);
    const id = idOf(path);
    const stage = node.tags.find(isStage);
    lines.push(`  state "${text(path)}" as ${id}`);
    lines.push(`  ${id} : ${stage ?? 'no stage'}`);
    // Live counts, for the journey page: customers in the state now.
    if (options.counts) {
      const now = options.counts[path] ?? 0;
      lines.push(`  ${id} : ${now} ${now === 1 ? 'customer' : 'customers'} now`);
    }
    const entry = sendsIn(node.entry);
    const exit = sendsIn(node.exit);
    if (entry.length > 0) lines.push(`  ${id} : sends ${text(entry.map(describeSend).join(', '))}`);
    if (exit.length > 0) lines.push(`  ${id} : on exit sends ${text(exit.map(describeSend).join(', '))}`);
    if (stage) byStage.set(stage, [...(byStage.get(stage) ?? []), id]);
  }

  const trigger =
    journey.trigger.kind === 'event' ? `enter on ${journey.trigger.event}` : 'enter through the API';
  const initial = machine.root.initial?.target ?? [];
  for (const target of initial) lines.push(`  [*] --> ${idOf(statePath(target))} : ${text(trigger)}`);

  const edges = (from: string, self: string, node: AnyStateNode) => {
    const delays = new Map(node.after.map((after) => [after.eventType, after.delay as unknown]));
    const add = (label: string, transition: TransitionLike) => {
      const targets = transition.target ?? [];
      const to = targets.length > 0 ? targets.map((target) => idOf(statePath(target))) : [self];
      for (const target of to) lines.push(`  ${from} --> ${target}${label ? ` : ${text(label)}` : ''}`);
    };
    for (const [eventType, transitions] of node.transitions) {
      const trigger = delays.has(eventType)
        ? delayLabel(delays.get(eventType))
        : eventType.startsWith(DONE_EVENT)
          ? 'done'
          : eventType;
      const labels = edgeLabels(trigger, transitions);
      transitions.forEach((transition, index) => add(labels[index] ?? trigger, transition));
    }
    const always = node.always ?? [];
    const labels = edgeLabels('always', always);
    always.forEach((transition, index) => add(labels[index] ?? 'always', transition));
  };

  // The runtime ends an instance on these events in any state, outside the machine.
  const exits = [
    ...journey.exitOn.map((event) => `exit on ${event}`),
    ...(journey.goal?.exit ? [`goal ${journey.goal.event}`] : []),
  ];
  if (machine.root.transitions.size > 0 || (machine.root.always ?? []).length > 0 || exits.length > 0) {
    lines.push(`  state "any state" as ${ANY_STATE}`);
    edges(ANY_STATE, ANY_STATE, machine.root);
    for (const exit of exits) lines.push(`  ${ANY_STATE} --> [*] : ${text(exit)}`);
  }
  for (const node of nodes) {
    const id = idOf(statePath(node));
    // A compound state starts in its initial child.
    for (const target of node.initial?.target ?? []) lines.push(`  ${id} --> ${idOf(statePath(target))}`);
    edges(id, id, node);
    if (node.type === 'final' && node.parent === machine.root) lines.push(`  ${id} --> [*]`);
  }
  for (const [stage, ids] of byStage) lines.push(`  class ${ids.join(',')} ${stage}`);
  return `${lines.join('\n')}\n`;
}
