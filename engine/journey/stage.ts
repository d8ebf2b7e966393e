/** The purchase funnel every journey state is placed in; counts and KPIs are cut by it. */
export const STAGES = ['awareness', 'consideration', 'decision', 'loyalty'] as const;
export type Stage = (typeof STAGES)[number];

export function isStage(tag: string): tag is Stage {
  return (STAGES as readonly string[]).includes(tag);
}

/** The later of two stages in the funnel's order. */
export function laterStage(a: Stage, b: Stage): Stage {
  return STAGES.indexOf(b) > STAGES.indexOf(a) ? b : a;
}
