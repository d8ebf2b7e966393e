// What `npm run demo` prints at the end: the funnel by stage, messages per channel, conversion.

export interface JourneyFigures {
  id: string;
  entered: number;
  converted: number;
  funnel: Record<string, number>;
  stages: Record<string, number>;
  exits: Record<string, number>;
}

const STAGE_ORDER = ['awareness', 'consideration', 'decision', 'loyalty'];
const percent = (part: number, whole: number) =>
  whole === 0 ? '  -  ' : `${((100 * part) / whole).toFixed(1)}%`;
// Last on its line, so not padded: trailing spaces only get in the way of a copied report.
const bar = (part: number, whole: number, width = 30) =>
  '█'.repeat(whole === 0 ? 0 : Math.round((width * part) / whole));

/** Reads `chorus_sends_total{channel="…",status="…"} n` lines of the Prometheus text format. */
export function sendsFromMetrics(metrics: string): Array<{ channel: string; status: string; count: number }> {
  return [...metrics.matchAll(/^chorus_sends_total\{channel="([^"]*)",status="([^"]*)"\} (\d+)/gm)].map(
    (m) => ({
      channel: m[1]!,
      status: m[2]!,
      count: Number(m[3]),
    }),
  );
}

/** Jobs waiting or running in any queue, from `chorus_queue_jobs` (delayed ones are timers and schedules). */
export function queuedJobs(metrics: string): number {
  return [
    ...metrics.matchAll(/^chorus_queue_jobs\{queue="[^"]*",state="(?:waiting|active|prioritized)"\} (\d+)/gm),
  ].reduce((n, m) => n + Number(m[1]), 0);
}

export function formatReport(
  journeys: readonly JourneyFigures[],
  sends: ReadonlyArray<{ channel: string; status: string; count: number }>,
): string {
  const lines: string[] = [];
  for (const journey of journeys.filter((j) => j.entered > 0)) {
    lines.push('', `Journey ${journey.id}: ${journey.entered} customers entered`, '', '  Funnel by stage');
    for (const stage of STAGE_ORDER) {
      const reached = journey.funnel[stage] ?? 0;
      lines.push(
        `    ${stage.padEnd(14)} ${String(reached).padStart(5)}  ${percent(reached, journey.entered).padStart(6)}  ${bar(reached, journey.entered)}`,
      );
    }
    const exits = Object.entries(journey.exits)
      .sort(([, a], [, b]) => b - a)
      .map(([reason, n]) => `${reason} ${n}`)
      .join(', ');
    lines.push(
      '',
      `  Goal conversion: ${journey.converted} of ${journey.entered} (${percent(journey.converted, journey.entered)})`,
      `  Finished: ${exits || 'none yet'}`,
    );
  }
  const channels = [...new Set(sends.map((s) => s.channel))].sort();
  lines.push('', '  Messages per channel');
  if (channels.length === 0) lines.push('    none');
  for (const channel of channels) {
    const byStatus = sends
      .filter((s) => s.channel === channel)
      .map((s) => `${s.status} ${s.count}`)
      .join(', ');
    lines.push(`    ${channel.padEnd(10)} ${byStatus}`);
  }
  return lines.join('\n') + '\n';
}

/** One progress line: journey day, events sent, customers per stage now. */
export function formatProgress(
  day: number,
  sent: number,
  total: number,
  journeys: readonly JourneyFigures[],
): string {
  const stages = STAGE_ORDER.map(
    (stage) => `${stage} ${journeys.reduce((n, j) => n + (j.stages[stage] ?? 0), 0)}`,
  ).join(' · ');
  return `day ${day.toFixed(1).padStart(4)}  events ${sent}/${total}  now in: ${stages}`;
}

/** What a demo run left undone: all zero once it has settled. */
export interface Unfinished {
  /** Sign-ups sent whose customer has not entered the journey yet. */
  notEntered: number;
  /** Customers still in a journey. */
  inJourney: number;
  /** Jobs waiting or running. */
  queued: number;
}

/** Why the run ended: on journey day `day`, with `left` undone, under a cap of `cap` days. */
export interface DemoEnding {
  day: number;
  cap: number;
  left: Unfinished;
}

/** The closing line: everything settled, or the --days cap came first and the figures are partial. */
export function formatEnding({ day, cap, left }: DemoEnding): string {
  const undone = [
    left.inJourney > 0 ? `${left.inJourney} customer(s) still in a journey` : '',
    left.notEntered > 0 ? `${left.notEntered} sign-up(s) not yet entered` : '',
    left.queued > 0 ? `${left.queued} job(s) waiting or running` : '',
  ].filter(Boolean);
  if (undone.length === 0)
    return `Settled on journey day ${day.toFixed(1)}: every shopper has finished, and no job is left.`;
  return (
    `Stopped at the cap of ${cap} journey days (--days) before the run settled: ${undone.join(', ')}. ` +
    'The figures above are partial. To finish, raise --days, or lower --time-scale so the workers keep up.'
  );
}
