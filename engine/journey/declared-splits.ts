import type { Journey, RecordVariantParams } from './define-journey.js';
import { actionsOf, nodesThatAct } from './machine-walk.js';

/** The action `j.split()` records a customer's variant with. */
const RECORD_VARIANT = 'chorus.recordVariant';

/**
 * The splits a journey's machine declares, split id to its arms, in the order written: what a
 * report shows before any customer has entered an arm, and what templates are checked for.
 */
export function declaredSplits(journey: Journey): Map<string, Set<string>> {
  const splits = new Map<string, Set<string>>();
  for (const node of nodesThatAct(journey.machine)) {
    for (const action of actionsOf(node)) {
      if (action.type !== RECORD_VARIANT) continue;
      const { split, variant } = action.params as RecordVariantParams;
      splits.set(split, (splits.get(split) ?? new Set()).add(variant));
    }
  }
  return splits;
}

/** The arm each split names as its control (`j.split(id, arms, { control })`), by split id. */
export function declaredControls(journey: Journey): Map<string, string> {
  const controls = new Map<string, string>();
  for (const node of nodesThatAct(journey.machine))
    for (const action of actionsOf(node)) {
      if (action.type !== RECORD_VARIANT) continue;
      const { split, control } = action.params as RecordVariantParams;
      if (control !== undefined && !controls.has(split)) controls.set(split, control);
    }
  return controls;
}
