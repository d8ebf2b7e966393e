import { join } from 'node:path';
import { SEND_ACTION, type Journey, type SendParams } from '../journey/define-journey.js';
import { Channel } from '../journey/journey-schema.js';
import { actionsOf, nodesThatAct, statePath } from '../journey/machine-walk.js';
import { CONTEXT_ROOTS, contextMissing, declareWhere, declaresNoTrigger } from './context-schema.js';
import type { TemplateProblem } from './template-checks.js';
import { modeOf, type TemplateSet } from './template-set.js';
import { scanTemplate, type TemplateScan } from './template-variables.js';

/**
 * Checks templates against the journeys that send them: every channel a `chorus.send` names is
 * supported by its message, and every variable its templates (layouts and partials included)
 * read exists in the journey's typed context, whatever the customer, or has a fallback.
 *
 * A variable may be missing when its field is `.optional()` or `.nullable()` (or, in the profile,
 * has a `.default()`: templates read the traits as stored), is reached through
 * a loose object or a record (undeclared keys, `trigger.*` of a journey without trigger
 * properties), is an event property, or is a split's variant. Such a variable, like one the
 * journey does not declare, needs a fallback: it is the first argument of `{{default path "…"}}`
 * or `{{json path}}` (which writes `null`), or it is read inside `{{#if p}}`, `{{#with p}}`,
 * `{{#each p}}` or the `{{else}}` of `{{#unless p}}` where `p` is the path itself or the part of
 * it that may be missing (`{{#if profile.address}}` guards `profile.address.city` when only
 * `address` is optional). An undeclared variable needs a fallback on the path itself. Returns
 * every problem found.
 */
export function checkTemplatesForJourneys(
  templates: TemplateSet,
  journeys: readonly Journey[],
): TemplateProblem[] {
  const problems: TemplateProblem[] = [];
  const seen = new Set<string>();
  const scans = new Map<string, TemplateScan[]>();
  const scansOf = (messageId: string, channel: Channel) => {
    const cacheKey = `${messageId}\0${channel}`;
    let found = scans.get(cacheKey);
    if (!found) {
      found = templates
        .filesOf(messageId, channel)
        .filter(({ file }) => file.ast !== undefined)
        .map(({ field, file }) => scanTemplate(file, modeOf(field), templates.partials));
      scans.set(cacheKey, found);
    }
    return found;
  };
  const brandFiles = new Set([...templates.partials.values()].map((file) => file.path));
  for (const journey of journeys) {
    const label = `${journey.id}@${journey.version}`;
    for (const node of nodesThatAct(journey.machine)) {
      const state = statePath(node);
      for (const action of actionsOf(node)) {
        if (action.type !== SEND_ACTION) continue;
        const { message: messageId, channels } = action.params as SendParams;
        const message = templates.message(messageId);
        if (!message) continue; // validateJourney reports a message that does not exist.
        for (const channel of channels) {
          if (!Channel.safeParse(channel).success) continue;
          const where = `Journey "${label}", state "${state}": message "${messageId}" on ${channel}`;
          // A state may send one message on one channel from several transitions (each arm of a
          // guard): a problem of the send is told once, as its variables' problems are.
          const sendKey = [label, state, messageId, channel].join('\0');
          const firstOfSend = !seen.has(sendKey);
          seen.add(sendKey);
          if (!templates.supports(messageId, channel)) {
            const supported = templates.channels(messageId);
            if (firstOfSend)
              problems.push({
                journey: label,
                state,
                message: messageId,
                channel,
                text: `${where} has no ${channel} templates (the message supports ${supported.join(', ') || 'no channel'}). To fix: add them to ${templates.dir}/${messageId}/, or send on a supported channel.`,
              });
            continue;
          }
          if (firstOfSend && channel === 'webhook' && message.webhook === undefined) {
            const file = join(templates.dir, messageId, 'message.json');
            problems.push({
              journey: label,
              state,
              message: messageId,
              channel,
              file,
              text: `${where}: ${file} declares no webhook URL, so every such send is skipped, the customer having no webhook address. To fix: add "webhook": { "url": "https://…" } to it, or send on another channel.`,
            });
          }
          for (const scan of scansOf(messageId, channel)) {
            for (const use of scan.variables) {
              const missing = contextMissing(journey, message, use.path, brandFiles.has(use.file));
              if (missing === undefined ? use.guarded : missing <= use.guardedDepth) continue;
              const variable = use.path.join('.').replace(/\.\[\]/g, '[]');
              const dedupe = [label, state, messageId, channel, use.file, variable].join('\0');
              if (seen.has(dedupe)) continue;
              seen.add(dedupe);
              const root = use.path[0] ?? '';
              const written = use.written === variable ? '' : ` (written ${use.written})`;
              const reads = `${where} reads ${variable}${written} in ${use.file} line ${use.line}`;
              problems.push({
                journey: label,
                state,
                message: messageId,
                channel,
                file: use.file,
                variable,
                text:
                  missing === undefined
                    ? `${reads}, which ${undeclared(root, templates.dir, messageId)}. ` +
                      `To fix: ${declare(root, use.path, templates.dir, messageId)} write {{default ${use.written} "…"}} (or wrap it in {{#if ${use.written}}}).`
                    : `${reads} without a fallback, ${mayBeMissing(journey, use.path, missing)} ` +
                      `To fix: write {{default ${use.written} "…"}} or wrap it in {{#if ${guardPath(use.path, missing, use.written)}}}${required(journey, use.path)}.`,
              });
            }
          }
        }
      }
    }
  }
  return problems;
}

/** Why a declared variable may be missing, for a problem's text. */
function mayBeMissing(journey: Journey, path: readonly string[], missing: number): string {
  const root = path[0] ?? '';
  const prefix = path
    .slice(0, missing)
    .join('.')
    .replace(/\.\[\]/g, '[]');
  if (root === 'trigger' && declaresNoTrigger(journey)) {
    return `but journey "${journey.id}@${journey.version}" declares no trigger properties, so every trigger.* may be missing.`;
  }
  if (root === 'event') {
    return 'and it may be missing: the event that caused the send may be another one, or a timer.';
  }
  if (root === 'variants') return `and ${prefix} is missing until the customer passes that split.`;
  if (root === 'profile')
    return `and ${prefix} may be missing: it is optional, nullable, filled in by a default (templates read the traits as stored, which a default does not change) or not a declared field in ${declareWhere(root)}.`;
  return `and ${prefix} may be missing: it is optional, nullable or not a declared field in ${declareWhere(root)}.`;
}

/** The `{{#if}}` that guards a use: on the shortest prefix of its path that may be missing. */
function guardPath(path: readonly string[], missing: number, written: string): string {
  return missing >= path.length
    ? written
    : path
        .slice(0, missing)
        .join('.')
        .replace(/\.\[\]/g, '[]');
}

/** The third way to fix a variable that may be missing, where there is one. */
function required(journey: Journey, path: readonly string[]): string {
  const root = path[0] ?? '';
  if (root === 'trigger' && declaresNoTrigger(journey)) {
    const declared =
      journey.trigger.kind === 'event'
        ? `{ event: '${journey.trigger.event}', properties: z.object({ ${path[1] ?? '…'}: … }) }`
        : '{ api: z.object({ … }) }';
    return `, or declare the trigger's properties in defineJourney(): trigger: ${declared}`;
  }
  return root === 'profile' || root === 'trigger' || root === 'data'
    ? `, or make it required in ${declareWhere(root)}`
    : '';
}

function undeclared(root: string, dir: string, messageId: string): string {
  if (root === 'message') return `${dir}/${messageId}/message.json does not declare`;
  if ((CONTEXT_ROOTS as readonly string[]).includes(root)) return `${declareWhere(root)} does not declare`;
  return `is not in the render context (its roots are ${CONTEXT_ROOTS.join(', ')})`;
}

function declare(root: string, path: readonly string[], dir: string, messageId: string): string {
  if (root === 'message') {
    const field = path[1] ?? '';
    return field === 'brand' || field === 'tone'
      ? `declare "${field}" in ${dir}/${messageId}/message.json, or`
      : 'correct the name (message has id, proposition, headline, cta.label, cta.url, brand, tone), or';
  }
  if ((CONTEXT_ROOTS as readonly string[]).includes(root) && root !== 'customer' && root !== 'journey') {
    return `declare it in ${declareWhere(root)}, or`;
  }
  return 'correct the name, or';
}
