import {
  createActor,
  type AnyActorScope,
  type AnyMachineSnapshot,
  type AnyStateMachine,
  type EventObject,
} from 'xstate';

type ExecutableAction = { type: string; params?: unknown };

const scopes = new WeakMap<AnyStateMachine, AnyActorScope>();

/**
 * One inert actor scope per machine, reused for every step. xstate's own `transition()` builds a
 * new actor for each call, and the actor's constructor computes a whole initial snapshot it then
 * throws away: that doubled the cost of every step. Reuse is safe because a step is synchronous
 * and journeys spawn and invoke no child actors (validation refuses `invoke`).
 */
function scopeFor(machine: AnyStateMachine): AnyActorScope {
  let scope = scopes.get(machine);
  if (!scope) {
    const self = createActor(machine);
    scope = {
      self,
      defer: () => {},
      id: '',
      logger: () => {},
      sessionId: '',
      stopChild: () => {},
      system: self.system,
      emit: () => {},
      actionExecutor: () => {},
    } as unknown as AnyActorScope;
    scopes.set(machine, scope);
  }
  return scope;
}

function collecting<T>(machine: AnyStateMachine, run: (scope: AnyActorScope) => T): [T, ExecutableAction[]] {
  const scope = scopeFor(machine);
  const actions: ExecutableAction[] = [];
  scope.actionExecutor = (action) => void actions.push(action as ExecutableAction);
  return [run(scope), actions];
}

/** Like xstate's `transition(machine, snapshot, event)`: the next snapshot and the actions, executing none. */
export function pureTransition(
  machine: AnyStateMachine,
  snapshot: AnyMachineSnapshot,
  event: EventObject,
): [AnyMachineSnapshot, ExecutableAction[]] {
  return collecting(machine, (scope) => machine.transition(snapshot, event, scope));
}

/** Like xstate's `initialTransition(machine, input)`. */
export function pureInitialTransition(
  machine: AnyStateMachine,
  input: unknown,
): [AnyMachineSnapshot, ExecutableAction[]] {
  return collecting(machine, (scope) => machine.getInitialSnapshot(scope, input));
}
