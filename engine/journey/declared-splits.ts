import type { Journey, RecordVariantParams } from './define-journey.js';
import { actionsOf, nodesThatAct } from './machine-walk.js';

/** The action `j.split()` records a customer's variant with. */
const RECORD_VARIANT = 'chorus.recordVariant';

/**
 * The splits a journey's machine declares, split id to its arms, in the order written: what a
 * report shows before any customer has entered an arm, and what templates are checked for.
 */
export function declaredSplits(journey: Journey): Map<string, Set<string>> {
  return new Map([...splitDeclarations(journey)].map(([split, { arms }]) => [split, arms]));
}

/** The arm each split names as its control (`j.split(id, arms, { control })`), by split id. */
export function declaredControls(journey: Journey): Map<string, string> {
  return new Map(
    [...splitDeclarations(journey)].flatMap(([split, { control }]) =>
      control === undefined ? [] : [[split, control] as const],
    ),
  );
}

/** One walk of the machine's split actions: each split's arms and the control it names, if any. */
function splitDeclarations(journey: Journey): Map<string, { arms: Set<string>; control?: string }> {
  const splits = new Map<string, { arms: Set<string>; control?: string }>();
  for (const node of nodesThatAct(journey.machine))
    for (const action of actionsOf(node)) {
      if (action.type !== RECORD_VARIANT) continue;
      const { split, variant, control } = action.params as RecordVariantParams;
      const found = splits.get(split) ?? { arms: new Set<string>() };
      found.arms.add(variant);
      if (found.control === undefined && control !== undefined) found.control = control;
      splits.set(split, found);
    }
  return splits;
}
