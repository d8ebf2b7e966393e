import type { Note } from '../runtime/command.js';
import { formatRendered } from './render-for-customer.js';
import {
  formatSpan,
  MAX_TIMER_STEPS,
  type SimulationResult,
  type SimulatedSend,
} from './simulate-journey.js';

const indent = (lines: readonly string[], by: string) =>
  lines.flatMap((line) => line.split('\n')).map((line) => `${by}${line}`.trimEnd());

function describeNote(note: Note): string | undefined {
  switch (note.kind) {
    case 'entered':
      return undefined; // shown as the instance's first state
    case 'converted':
      return `converted (goal reached in ${note.journeyId})`;
    case 'exited':
      return `exited ${note.journeyId}: ${note.reason}`;
    case 'not-entered':
      return `not entered into ${note.journeyId}: ${note.reason}`;
    case 'rejected':
      return `event rejected${note.journeyId ? ` by ${note.journeyId}` : ''}: ${note.reason}`;
    case 'failed':
      return `failed in ${note.journeyId}: ${note.reason}`;
  }
}

function describeSend(send: SimulatedSend, html: boolean): string[] {
  const head = `send "${send.message}" (in state ${send.state}, channels ${send.channels.join(' > ')})`;
  if (send.outcome === 'skipped') return [`${head}: skipped`, ...indent(send.reasons, '  ')];
  return [
    `${head} via ${send.via} to ${send.to}`,
    ...indent(
      send.fellBack.map((reason) => `passed over ${reason}`),
      '  ',
    ),
    ...indent(formatRendered(send.rendered, { html }), '  │ '),
  ];
}

/**
 * The simulation as a timeline: each step with its journey time (`+2d`) and date, what caused
 * it, every state change and note, and every message rendered in full.
 */
export function formatSimulation(result: SimulationResult, options: { html?: boolean } = {}): string {
  const lines = [
    `Simulating ${result.journey} for customer "${result.customer}" from ${new Date(result.start).toISOString()}`,
    '',
  ];
  for (const step of result.steps) {
    lines.push(`+${formatSpan(step.at - result.start)}  ${new Date(step.at).toISOString()}  ${step.cause}`);
    const body: string[] = [];
    for (const { instance, from } of step.changes) {
      const where = `${instance.state} (${instance.stage})`;
      if (!from) body.push(`entered ${instance.journeyId}@${instance.journeyVersion} → ${where}`);
      else if (from.state !== instance.state) body.push(`${from.state} → ${where}`);
      if (instance.status !== 'active' && from?.status !== instance.status)
        body.push(`instance ${instance.status}${instance.exitReason ? ` (${instance.exitReason})` : ''}`);
    }
    body.push(...step.notes.flatMap((note) => describeNote(note) ?? []));
    body.push(...step.sends.flatMap((send) => describeSend(send, options.html ?? false)));
    if (body.length === 0) body.push('(no change)');
    lines.push(...indent(body, '    '), '');
  }
  const sends = result.steps.flatMap((step) => step.sends);
  lines.push(
    `Stopped at +${formatSpan(result.end - result.start)} (${new Date(result.end).toISOString()}): ` +
      `${sends.filter((s) => s.outcome === 'sent').length} message(s) sent, ` +
      `${sends.filter((s) => s.outcome === 'skipped').length} skipped.`,
  );
  if (result.timerStepsCapped)
    lines.push(
      `  (stopped after ${MAX_TIMER_STEPS.toLocaleString('en-US')} timer steps: the journey keeps setting timers; ` +
        'pass --until to choose how far to run)',
    );
  for (const timer of [...result.pending].sort((a, b) => a.dueAt - b.dueAt)) {
    lines.push(
      `  pending: timer after ${formatSpan(timer.delayMs)}, due at +${formatSpan(timer.dueAt - result.start)} (raise --until to see it fire)`,
    );
  }
  return `${lines.join('\n')}\n`;
}
