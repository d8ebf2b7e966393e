/** The purchase funnel every journey state is placed in; counts and KPIs are cut by it. */
export const STAGES = ['awareness', 'consideration', 'decision', 'loyalty'] as const;
export type Stage = (typeof STAGES)[number];

export function isStage(tag: string): tag is Stage {
  return (STAGES as readonly string[]).includes(tag);
}
