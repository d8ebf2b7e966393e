import { ChorusError } from '../errors.js';
import { SEND_ACTION, type Journey, type SendParams } from '../journey/define-journey.js';
import { Channel } from '../journey/journey-schema.js';
import { actionsOf, allStateNodes, statePath } from '../journey/machine-walk.js';
import { CONTEXT_ROOTS, contextMissing, declareWhere, declaresNoTrigger } from './context-schema.js';
import { htmlToText } from './html-to-text.js';
import { messageFields, type CoreMessage } from './message-catalog.js';
import { MessageRenderError, MessageRenderer } from './message-renderer.js';
import type { RenderContext, RenderedMessage } from './rendered-message.js';
import { modeOf, TemplateSet, type TemplateField, type TemplateFile } from './template-set.js';
import { scanTemplate, type TemplateScan } from './template-variables.js';
import { htmlLinks, textLinks, withoutUtm } from './utm.js';

/** One thing wrong with the templates, located, with its fix. */
export interface TemplateProblem {
  /** The core message id. */
  message?: string;
  channel?: Channel;
  /** The template file, e.g. `templates/welcome/email.html.hbs`. */
  file?: string;
  /** For journey checks: `id@version`, the state that sends, and the variable read. */
  journey?: string;
  state?: string;
  variable?: string;
  /** The whole problem in one sentence or two: where, what is wrong, and the fix. */
  text: string;
}

/** Templates failed their load-time checks. `problems` lists every one, not the first. */
export class TemplateValidationError extends ChorusError {
  readonly problems: readonly TemplateProblem[];
  constructor(problems: readonly TemplateProblem[]) {
    super(
      'CHORUS_TEMPLATE_INVALID',
      `${problems.length} template problem${problems.length === 1 ? '' : 's'}:\n` +
        problems.map((problem) => `- ${problem.text}`).join('\n') +
        '\nTo fix: follow the fix given for each problem.',
    );
    this.problems = problems;
  }
}

export interface TemplateCheckOptions {
  /** The most parts an SMS may take, rendered with placeholder values. Default 3. */
  maxSmsSegments?: number;
}

/** Push notifications are cut beyond these lengths (characters) on common devices. */
export const PUSH_LIMITS = { title: 65, body: 240 } as const;

/** The placeholder context templates are rendered with at load time: realistic, never empty. */
export function probeContext(message: CoreMessage): RenderContext {
  return {
    customer: { id: 'probe-customer-0001' },
    profile: {
      firstName: 'Alexandra',
      lastName: 'Whitfield',
      email: 'alexandra@example.com',
      phone: '+15555550123',
    },
    trigger: {},
    event: { name: 'Probe', properties: {} },
    data: {},
    journey: { id: 'probe-journey', version: 1, state: 'probe', stage: 'awareness' },
    message: messageFields(message),
    variants: {},
    locale: 'en-US',
    timezone: 'Europe/London',
    unsubscribeUrl: 'https://example.com/unsubscribe/probe-token',
  };
}

const normalise = (text: string) => text.replace(/\s+/g, ' ').trim().toLowerCase();

function strings(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  if (Array.isArray(value)) return value.flatMap(strings);
  if (typeof value === 'object' && value !== null) return Object.values(value).flatMap(strings);
  return [];
}

/** Per rendered part: the text a reader sees and the links in it. */
function partsOf(rendered: RenderedMessage): Array<{ part: string; text: string; links: string[] | 'cta' }> {
  switch (rendered.channel) {
    case 'email':
      return [
        { part: 'HTML', text: htmlToText(rendered.html), links: htmlLinks(rendered.html) },
        { part: 'text part', text: rendered.text, links: textLinks(rendered.text) },
      ];
    case 'sms':
      return [{ part: 'body', text: rendered.body, links: textLinks(rendered.body) }];
    // Push carries the CTA as its `url`, the inbox as its `cta`: only the wording is checked.
    case 'push':
      return [{ part: 'title and body', text: `${rendered.title}\n${rendered.body}`, links: 'cta' }];
    case 'in-app':
      return [
        { part: 'title and body', text: htmlToText(`${rendered.title}<br>${rendered.body}`), links: 'cta' },
      ];
    case 'webhook': {
      const values = strings(rendered.payload);
      return [{ part: 'JSON', text: values.join('\n'), links: values.flatMap(textLinks) }];
    }
  }
}

/** The templates a rendered part comes from, for naming them in a problem. */
function sourcesOf(
  templates: TemplateSet,
  messageId: string,
  channel: Channel,
  part: string,
): TemplateFile[] {
  const hasText = templates.template(messageId, 'email.text') !== undefined;
  const fields: Record<Channel, TemplateField[]> = {
    email: [part === 'HTML' || !hasText ? 'email.html' : 'email.text'],
    sms: ['sms'],
    push: ['push.title', 'push.body'],
    'in-app': ['in-app.title', 'in-app.body'],
    webhook: ['webhook.json'],
  };
  return fields[channel].flatMap((field) => templates.template(messageId, field) ?? []);
}

/**
 * The checks that need no journey: every template parses and names helpers and partials that
 * exist; rendered with {@link probeContext}, every channel carries the headline (or the key
 * phrase) and the CTA URL, SMS stays within `maxSmsSegments` and push within {@link PUSH_LIMITS}.
 * Returns every problem found.
 */
export function checkTemplates(
  templates: TemplateSet,
  options: TemplateCheckOptions = {},
): TemplateProblem[] {
  const maxSegments = options.maxSmsSegments ?? 3;
  const problems: TemplateProblem[] = templates.loadIssues.map((issue) => ({ ...issue }));
  const reported = new Set<string>();
  const syntax = (file: TemplateFile, where: Omit<TemplateProblem, 'text'>, label: string) => {
    if (file.syntaxError === undefined || reported.has(file.path)) return;
    reported.add(file.path);
    problems.push({
      ...where,
      file: file.path,
      text: `${label}: ${file.path} is not a valid template: ${file.syntaxError.replace(/\n/g, '\n    ')}\n  To fix: correct the Handlebars syntax where the message points.`,
    });
  };
  for (const file of templates.partials.values()) syntax(file, {}, 'Brand partial');

  const renderer = new MessageRenderer(templates);
  for (const id of templates.messageIds()) {
    const message = templates.message(id)!;
    for (const channel of templates.channels(id)) {
      const label = `Message "${id}", channel ${channel}`;
      const files = templates.filesOf(id, channel);
      for (const { file } of files) syntax(file, { message: id, channel }, label);
      if (files.some(({ file }) => file.syntaxError !== undefined)) continue;
      let broken = false;
      for (const { field, file } of files) {
        const scan = scanTemplate(file, modeOf(field), templates.partials);
        for (const helper of scan.unknownHelpers) {
          broken = true;
          problems.push({
            message: id,
            channel,
            file: helper.file,
            text: `${label}: ${helper.file} line ${helper.line} calls helper "${helper.name}", which does not exist. To fix: use one of default, formatDate, currency, plural${channel === 'webhook' ? ', json' : ''} (or if, unless, with, each, lookup).`,
          });
        }
        for (const partial of scan.missingPartials) {
          broken = true;
          problems.push({
            message: id,
            channel,
            file: partial.file,
            text: `${label}: ${partial.file} line ${partial.line} includes partial "${partial.name}", which does not exist. To fix: add ${templates.dir}/_brand/${partial.name}.hbs or correct the name.`,
          });
        }
      }
      if (broken) continue;
      let rendered: RenderedMessage;
      try {
        rendered = renderer.render(id, channel, probeContext(message));
      } catch (error) {
        problems.push({
          message: id,
          channel,
          file: error instanceof MessageRenderError ? error.file : files[0]?.file.path,
          text: `${error instanceof MessageRenderError ? '' : `${label}: `}${(error as Error).message} (rendered with placeholder values)`,
        });
        continue;
      }
      problems.push(...consistency(templates, message, channel, rendered));
      problems.push(...limits(templates, message, channel, rendered, maxSegments));
    }
  }
  return problems;
}

function consistency(
  templates: TemplateSet,
  message: CoreMessage,
  channel: Channel,
  rendered: RenderedMessage,
): TemplateProblem[] {
  const problems: TemplateProblem[] = [];
  const label = `Message "${message.id}", channel ${channel}`;
  const phrase = message.keyPhrase ?? message.headline;
  const phraseName = message.keyPhrase === undefined ? 'headline' : 'key phrase';
  for (const { part, text, links } of partsOf(rendered)) {
    const inFiles = sourcesOf(templates, message.id, channel, part);
    const where = inFiles.map((file) => file.path).join(' and ');
    const derived =
      channel === 'email' && part === 'text part' && !templates.template(message.id, 'email.text');
    const partName = derived ? 'text part (derived from the HTML)' : part;
    if (!normalise(text).includes(normalise(phrase))) {
      problems.push({
        message: message.id,
        channel,
        file: inFiles[0]?.path,
        text: `${label}: the ${partName} does not carry the core message's ${phraseName} "${phrase}" (${where}). To fix: ${message.keyPhrase === undefined ? 'include {{message.headline}}, or declare a shorter "keyPhrase" in message.json and write it' : `write "${phrase}"`} in the template.`,
      });
    }
    if (links !== 'cta' && !links.some((link) => withoutUtm(link) === withoutUtm(message.cta.url))) {
      problems.push({
        message: message.id,
        channel,
        file: inFiles[0]?.path,
        text: `${label}: the ${partName} does not link to the CTA URL ${message.cta.url} (${where}). To fix: link to {{message.cta.url}}, which carries the UTM parameters.`,
      });
    }
  }
  return problems;
}

function limits(
  templates: TemplateSet,
  message: CoreMessage,
  channel: Channel,
  rendered: RenderedMessage,
  maxSegments: number,
): TemplateProblem[] {
  const label = `Message "${message.id}", channel ${channel}`;
  const problems: TemplateProblem[] = [];
  if (rendered.channel === 'sms' && rendered.segments > maxSegments) {
    const file = templates.template(message.id, 'sms')!.path;
    const nonGsm =
      rendered.encoding === 'UCS-2'
        ? ` It is UCS-2 (70 characters a part) because of characters outside GSM-7 such as ${JSON.stringify([...rendered.body].find((char) => !/^[\x20-\x7e\n]$/.test(char)) ?? '')}; replacing them would make parts of 153.`
        : '';
    problems.push({
      message: message.id,
      channel,
      file,
      text: `${label}: ${file} renders to ${rendered.segments} SMS parts with placeholder values, more than ${maxSegments}.${nonGsm} To fix: shorten the text (or declare a shorter keyPhrase to use instead of the headline).`,
    });
  }
  if (rendered.channel === 'push') {
    for (const [part, limit] of Object.entries(PUSH_LIMITS) as Array<['title' | 'body', number]>) {
      const length = [...rendered[part]].length;
      if (length <= limit) continue;
      const file = templates.template(message.id, `push.${part}`)!.path;
      problems.push({
        message: message.id,
        channel,
        file,
        text: `${label}: the push ${part} is ${length} characters with placeholder values, over the ${limit} devices show (${file}). To fix: shorten it${part === 'title' ? ', or declare a shorter keyPhrase in message.json' : ''}.`,
      });
    }
  }
  return problems;
}

/**
 * Checks templates against the journeys that send them: every channel a `chorus.send` names is
 * supported by its message, and every variable its templates (layouts and partials included)
 * read exists in the journey's typed context, whatever the customer, or has a fallback.
 *
 * A variable may be missing when its field is `.optional()` or `.nullable()`, is reached through
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
    for (const node of allStateNodes(journey.machine)) {
      const state = statePath(node);
      for (const action of actionsOf(node)) {
        if (action.type !== SEND_ACTION) continue;
        const { message: messageId, channels } = action.params as SendParams;
        const message = templates.message(messageId);
        if (!message) continue; // validateJourney reports a message that does not exist.
        for (const channel of channels) {
          if (!Channel.safeParse(channel).success) continue;
          const where = `Journey "${label}", state "${state}": message "${messageId}" on ${channel}`;
          if (!templates.supports(messageId, channel)) {
            const supported = templates.channels(messageId);
            problems.push({
              journey: label,
              state,
              message: messageId,
              channel,
              text: `${where} has no ${channel} templates (the message supports ${supported.join(', ') || 'no channel'}). To fix: add them to ${templates.dir}/${messageId}/, or send on a supported channel.`,
            });
            continue;
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

export interface LoadTemplatesOptions extends TemplateCheckOptions {
  /** Also check the templates against these journeys' sends and typed contexts. */
  journeys?: readonly Journey[];
}

/**
 * Loads a `templates/` folder and runs every load-time check on it.
 *
 * @throws TemplateValidationError listing every problem found.
 * @example
 * const templates = loadTemplates('templates', { journeys: [onboarding] });
 * const renderer = new MessageRenderer(templates);
 */
export function loadTemplates(dir: string, options: LoadTemplatesOptions = {}): TemplateSet {
  const templates = TemplateSet.fromDirectory(dir);
  const problems = [
    ...checkTemplates(templates, options),
    ...(options.journeys ? checkTemplatesForJourneys(templates, options.journeys) : []),
  ];
  if (problems.length > 0) throw new TemplateValidationError(problems);
  return templates;
}
