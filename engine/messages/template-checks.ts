import { ChorusError } from '../errors.js';
import type { Journey } from '../journey/define-journey.js';
import type { Channel } from '../journey/journey-schema.js';
import { htmlToText } from './html-to-text.js';
import type { CoreMessage } from './message-catalog.js';
import { MessageRenderError, MessageRenderer } from './message-renderer.js';
import type { RenderedMessage } from './rendered-message.js';
import { checkTemplatesForJourneys } from './template-journey-checks.js';
import { describeProbes, probesFor, type Probe } from './template-probes.js';
import { layoutBodyProblems } from './layout-checks.js';
import { currencyCodeProblems } from './currency-code-checks.js';
import { dateFormatProblems } from './date-format-checks.js';
import { liquidTagProblems } from './liquid-checks.js';
import { syntaxFix } from './syntax-fix.js';
import { modeOf, TemplateSet, type TemplateField, type TemplateFile } from './template-set.js';
import { isGsm7, plainPunctuation, smsSegments } from './sms-segments.js';
import { SHORT_LINK_ID_LENGTH, shortUrl } from '../tracking/short-links.js';
import { isTrackableUrl } from '../tracking/tracking-token.js';
import { trackRendered } from '../tracking/track-links.js';
import { PUSH_PAYLOAD_LIMIT, pushPayloadBytes } from './push-payload.js';
import type { RenderedFor } from './rendered-message.js';
import { variantLabel } from './utm.js';
import { scanTemplate } from './template-variables.js';
import { htmlLinks, mapTextLinks, textLinks, withoutUtm } from './utm.js';
import { visibleHtml, visibleLinks } from './visible-html.js';
import { carriesPhrase } from './carries-phrase.js';

export { checkTemplatesForJourneys } from './template-journey-checks.js';

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
  /**
   * For a problem only some customers would see: the split variants it shows in (`control`:
   * no split passed; `tips=holdout`), comma-separated. Its text also says when traits matter.
   */
  variant?: string;
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
  /**
   * Links are tracked (TRACK_LINKS) with this public URL: an SMS's brand links are counted at the
   * length of the short link each becomes (`<baseUrl>/t/s/<id>`), and a push's at the length of
   * its tracked redirect (`<baseUrl>/t/c/<token>`), as sent. Unset: as rendered.
   */
  trackedSmsLinks?: { baseUrl: string };
  /**
   * The journeys that send these templates. `checkTemplates` renders each message once per
   * split variant they declare; `loadTemplates` also checks the templates against their sends
   * and typed contexts ({@link checkTemplatesForJourneys}).
   */
  journeys?: readonly Journey[];
}

/** Push notifications are cut beyond these lengths (characters) on common devices. */
export const PUSH_LIMITS = { title: 65, body: 240 } as const;

function strings(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  if (Array.isArray(value)) return value.flatMap(strings);
  if (typeof value === 'object' && value !== null) return Object.values(value).flatMap(strings);
  return [];
}

/**
 * Per rendered part: the text a reader sees and the links in it. In HTML that is what is shown:
 * a headline or CTA in a comment, the head or a hidden element reaches no one.
 */
interface Part {
  part: string;
  text: string;
  links: string[] | 'cta';
  /** For HTML: the whole document, seen or not, to say why a headline or CTA it holds does not count. */
  html?: string;
}

function partsOf(rendered: RenderedMessage): Part[] {
  switch (rendered.channel) {
    case 'email':
      return [
        {
          part: 'HTML',
          text: htmlToText(visibleHtml(rendered.html)),
          links: visibleLinks(rendered.html),
          html: rendered.html,
        },
        { part: 'text part', text: rendered.text, links: textLinks(rendered.text) },
      ];
    case 'sms':
      return [{ part: 'body', text: rendered.body, links: textLinks(rendered.body) }];
    // Push carries the CTA as its `url`, the inbox as its `cta`: only the wording is checked.
    case 'push':
      return [{ part: 'title and body', text: `${rendered.title}\n${rendered.body}`, links: 'cta' }];
    case 'in-app':
      return [
        {
          part: 'title and body',
          text: htmlToText(visibleHtml(`${rendered.title}<br>${rendered.body}`)),
          links: 'cta',
          html: `${rendered.title}<br>${rendered.body}`,
        },
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
 * What one rendering showed wrong, before the renderings are compared: `key` says which check
 * (and which part), so the same problem in several renderings is reported once.
 */
interface Finding {
  key: string;
  file?: string;
  /** What is wrong, ending with a full stop; the text adds where and when before it. */
  body: string;
  /** How to fix it, ending with a full stop; a render error's own message already says. */
  fix?: string;
  /** Added to the fix when some renderings show the problem and others do not. */
  ifHidden?: string;
  /** Limits are measured with the placeholder traits only: fewer traits make shorter texts. */
  placeholderOnly?: boolean;
}

/**
 * The checks that need no journey: every template parses and names helpers and partials that
 * exist, a formatDate format is written with Luxon's tokens and a currency code written in a
 * template is one; rendered with placeholder values, every channel carries the headline (or the
 * key phrase) and the CTA URL, SMS stays within `maxSmsSegments` and push within {@link PUSH_LIMITS}.
 *
 * A message is rendered several times ({@link probesFor}): with the placeholder traits and with
 * only the traits its journeys require, and once per split variant of the `journeys` that send
 * it. A headline or CTA that some of them lack (behind `{{#if profile.firstName}}`, or in one
 * variant only) is reported with the variant and traits it is missing for. Returns every
 * problem found.
 */
export function checkTemplates(
  templates: TemplateSet,
  options: TemplateCheckOptions = {},
): TemplateProblem[] {
  const sms: SmsLimits = {
    maxSegments: options.maxSmsSegments ?? 3,
    ...(options.trackedSmsLinks ? { trackedLinks: options.trackedSmsLinks } : {}),
  };
  const problems: TemplateProblem[] = templates.loadIssues.map((issue) => ({ ...issue }));
  const reported = new Set<string>();
  const syntax = (file: TemplateFile, where: Omit<TemplateProblem, 'text'>, label: string) => {
    if (file.syntaxError === undefined || reported.has(file.path)) return;
    reported.add(file.path);
    problems.push({
      ...where,
      file: file.path,
      text: `${label}: ${file.path} is not a valid template: ${file.syntaxError.replace(/\n/g, '\n    ')}\n  To fix: ${syntaxFix(file.syntaxError)}`,
    });
  };
  for (const file of templates.partials.values()) syntax(file, {}, 'Brand partial');
  const layoutProblems = layoutBodyProblems(templates);
  problems.push(
    ...layoutProblems,
    ...dateFormatProblems(templates),
    ...currencyCodeProblems(templates),
    ...liquidTagProblems(templates),
  );

  const renderer = new MessageRenderer(templates);
  for (const id of templates.messageIds()) {
    const message = templates.message(id)!;
    const probes = probesFor(message, options.journeys ?? []);
    for (const channel of templates.channels(id)) {
      const label = `Message "${id}", channel ${channel}`;
      const files = templates.filesOf(id, channel);
      for (const { file } of files) syntax(file, { message: id, channel }, label);
      if (files.some(({ file }) => file.syntaxError !== undefined)) continue;
      // Each email would be reported without its headline's tags or its CTA link: the layout is at fault.
      if (channel === 'email' && layoutProblems.length > 0) continue;
      let broken = false;
      for (const { field, file } of files) {
        const scan = scanTemplate(file, modeOf(field), templates.partials);
        for (const helper of scan.unknownHelpers) {
          broken = true;
          problems.push({
            message: id,
            channel,
            file: helper.file,
            text: `${label}: ${helper.file} line ${helper.line} calls helper "${helper.name}", which does not exist. To fix: use one of default, formatDate, currency, plural, textDirection${channel === 'webhook' ? ', json' : ''} (or if, unless, with, each, lookup).`,
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
      const found = new Map<string, { finding: Finding; failing: Probe[] }>();
      for (const probe of probes) {
        for (const finding of findings(templates, renderer, message, channel, probe, sms)) {
          const entry = found.get(finding.key) ?? { finding, failing: [] };
          entry.failing.push(probe);
          found.set(finding.key, entry);
        }
      }
      for (const { finding, failing } of found.values()) {
        const compared = finding.placeholderOnly
          ? probes.filter((probe) => probe.traits === 'placeholder')
          : probes;
        const when = describeProbes(failing, compared);
        problems.push({
          message: id,
          channel,
          ...(finding.file === undefined ? {} : { file: finding.file }),
          ...(when === '' ? {} : { variant: [...new Set(failing.map((probe) => probe.variant))].join(', ') }),
          text: [
            `${label}${when === '' ? '' : `, ${when}`}: ${finding.body}`,
            finding.fix === undefined ? '' : ` To fix: ${finding.fix}`,
            when === '' || finding.ifHidden === undefined ? '' : ` ${finding.ifHidden}`,
          ].join(''),
        });
      }
    }
  }
  return problems;
}

/** Renders a message for one probe and runs the checks on what it shows. */
function findings(
  templates: TemplateSet,
  renderer: MessageRenderer,
  message: CoreMessage,
  channel: Channel,
  probe: Probe,
  sms: SmsLimits,
): Finding[] {
  let rendered: RenderedMessage;
  try {
    rendered = renderer.render(message.id, channel, probe.context);
  } catch (error) {
    const file =
      error instanceof MessageRenderError ? error.file : templates.filesOf(message.id, channel)[0]?.file.path;
    // A template's own failure is told with this check's fix: the renderer's points at the checks.
    // A helper's error may say its own fix (a raw value in JSON): then it is the fix.
    const cause = error instanceof MessageRenderError ? error.cause : undefined;
    if (file !== undefined && cause instanceof Error) {
      const said = cause.message.replace(/\.$/, '');
      const fix = said.includes('To fix:') ? '' : ' To fix: correct the template where the error points.';
      return [
        { key: 'render', file, body: `${file} failed to render with placeholder values: ${said}.${fix}` },
      ];
    }
    // Any other render error's message names the message and channel, which the label repeats, and its fix.
    const text = (error as Error).message.replace(/^Message "[^"]*", channel [a-z-]+: /, '');
    return [
      {
        key: 'render',
        ...(file === undefined ? {} : { file }),
        body: `${text} (rendered with placeholder values)`,
      },
    ];
  }
  return [
    ...consistency(templates, message, channel, rendered),
    ...(probe.traits === 'placeholder' ? limits(templates, renderer, message, rendered, sms, probe) : []),
  ];
}

/** Why a headline or CTA the HTML holds does not count: no reader would see it, or follow it. */
const UNSEEN = (what: string) => `: it is there only where no reader sees it (${what}), which does not count`;

const HIDDEN =
  'Other renderings have it, so a condition hides it: move it out of the {{#if}}, {{#unless}} or {{#with}} on a trait or variant, so that every customer in every variant gets it.';

/**
 * Where a link leads, for finding the CTA among a part's links: without its UTM parameters
 * (`{{message.cta.url}}` carries them) and without a fragment, so `{{message.cta.url}}#pricing`,
 * the CTA's page at one of its sections, still counts as the CTA.
 */
const ctaTarget = (url: string) => withoutUtm(url).replace(/#.*$/s, '');

function consistency(
  templates: TemplateSet,
  message: CoreMessage,
  channel: Channel,
  rendered: RenderedMessage,
): Finding[] {
  const found: Finding[] = [];
  const phrase = message.keyPhrase ?? message.headline;
  const phraseName = message.keyPhrase === undefined ? 'headline' : 'key phrase';
  for (const { part, text, links, html } of partsOf(rendered)) {
    const inFiles = sourcesOf(templates, message.id, channel, part);
    const where = inFiles.map((file) => file.path).join(' and ');
    const file = inFiles[0]?.path;
    const derived =
      channel === 'email' && part === 'text part' && !templates.template(message.id, 'email.text');
    const partName = derived ? 'text part (derived from the HTML)' : part;
    if (!carriesPhrase(text, phrase)) {
      found.push({
        key: `phrase:${part}`,
        ...(file === undefined ? {} : { file }),
        body: `the ${partName} does not carry the core message's ${phraseName} "${phrase}" (${where})${html !== undefined && carriesPhrase(htmlToText(html), phrase) ? UNSEEN('a hidden element') : ''}.`,
        ifHidden: HIDDEN,
        fix: `${message.keyPhrase === undefined ? 'include {{message.headline}}, or declare a shorter "keyPhrase" in message.json and write it' : `write "${phrase}"`} in the template.`,
      });
    }
    const isCta = (link: string) => ctaTarget(link) === ctaTarget(message.cta.url);
    if (links !== 'cta' && !links.some(isCta)) {
      found.push({
        key: `cta:${part}`,
        ...(file === undefined ? {} : { file }),
        body: `the ${partName} does not link to the CTA URL ${message.cta.url} (${where})${html !== undefined && htmlLinks(html).some(isCta) ? UNSEEN('a comment, the head, a hidden element, a tag other than <a> or a link with nothing in it to click') : ''}.`,
        fix: 'link to {{message.cta.url}}, which carries the UTM parameters.',
        ifHidden: HIDDEN,
      });
    }
  }
  return found;
}

interface SmsLimits {
  maxSegments: number;
  trackedLinks?: { baseUrl: string };
}

/**
 * An SMS body as it is sent when links are tracked: each link the send would track (http(s), to
 * a brand host) at the length of its short link, which is what the provider counts and charges.
 */
function smsAsSent(renderer: MessageRenderer, messageId: string, body: string, baseUrl: string): string {
  const short = shortUrl(baseUrl, '0'.repeat(SHORT_LINK_ID_LENGTH));
  const api = baseUrl.replace(/\/+$/, '');
  const tracked = (url: string) =>
    isTrackableUrl(url) && !url.startsWith(`${api}/`) && renderer.isBrandLink(messageId, url);
  return mapTextLinks(body, (url) => (tracked(url) ? short : url));
}

/**
 * A push as FCM gets it, for its size: when links are tracked, each brand link (its title's, its
 * body's, its CTA) as the tracked redirect the send makes of it, signed for a placeholder send of
 * this probe. A tracked link carries its whole URL, so it is longer than the link it replaces.
 */
function pushAsSent(
  renderer: MessageRenderer,
  messageId: string,
  rendered: RenderedFor<'push'>,
  probe: Probe,
  opId: string,
  baseUrl: string | undefined,
): RenderedFor<'push'> {
  if (baseUrl === undefined) return rendered;
  const { context } = probe;
  const send = {
    opId,
    customerId: context.customer.id,
    journeyId: context.journey.id,
    message: messageId,
    channel: 'push' as const,
    variant: variantLabel(context.variants),
  };
  const brand = (url: string) => renderer.isBrandLink(messageId, url);
  const tracked = trackRendered(rendered, send, { baseUrl, secret: 'load-time check' }, { brand });
  return tracked as RenderedFor<'push'>;
}

function limits(
  templates: TemplateSet,
  renderer: MessageRenderer,
  message: CoreMessage,
  rendered: RenderedMessage,
  sms: SmsLimits,
  probe: Probe,
): Finding[] {
  const found: Finding[] = [];
  const { maxSegments, trackedLinks } = sms;
  const sent =
    rendered.channel !== 'sms' || trackedLinks === undefined
      ? rendered
      : { ...rendered, ...smsSegments(smsAsSent(renderer, message.id, rendered.body, trackedLinks.baseUrl)) };
  if (sent.channel === 'sms' && sent.segments > maxSegments) {
    const file = templates.template(message.id, 'sms')!.path;
    const nonGsm =
      sent.encoding === 'UCS-2'
        ? ` It is UCS-2 (70 characters a part) because of characters outside GSM-7 such as ${JSON.stringify([...sent.body].find((char) => !isGsm7(plainPunctuation(char))) ?? '')}; replacing them would make parts of 153.`
        : '';
    const asTracked = trackedLinks === undefined ? '' : ', its tracked links counted as the short links sent';
    found.push({
      key: 'sms-segments',
      file,
      placeholderOnly: true,
      body: `${file} renders to ${sent.segments} SMS parts with placeholder values${asTracked}, more than ${maxSegments}.${nonGsm}`,
      fix: 'shorten the text (or declare a shorter keyPhrase to use instead of the headline).',
    });
  }
  if (rendered.channel === 'push') {
    for (const [part, limit] of Object.entries(PUSH_LIMITS) as Array<['title' | 'body', number]>) {
      const length = [...rendered[part]].length;
      if (length <= limit) continue;
      const file = templates.template(message.id, `push.${part}`)!.path;
      found.push({
        key: `push-${part}`,
        file,
        placeholderOnly: true,
        body: `the push ${part} is ${length} characters with placeholder values, over the ${limit} devices show (${file}).`,
        fix: `shorten it${part === 'title' ? ', or declare a shorter keyPhrase in message.json' : ''}.`,
      });
    }
    // An operation id as long as a send of this probe's customer and journey would have.
    const opId = `s-${probe.context.customer.id}-${probe.context.journey.id}.1000000-100-10`;
    const sent = pushAsSent(renderer, message.id, rendered, probe, opId, trackedLinks?.baseUrl);
    const bytes = pushPayloadBytes(sent, opId);
    if (bytes > PUSH_PAYLOAD_LIMIT) {
      const files = (['title', 'body'] as const).map(
        (part) => templates.template(message.id, `push.${part}`)!.path,
      );
      const asTracked = trackedLinks === undefined ? '' : ', its links tracked';
      found.push({
        key: 'push-payload',
        file: files[1]!,
        placeholderOnly: true,
        body: `the push is ${bytes} bytes with placeholder values${asTracked} (title, body, CTA URL and data as sent to FCM), over the ${PUSH_PAYLOAD_LIMIT} FCM takes, so every send of it would fail (${files.join(' and ')}).`,
        fix: 'shorten the body or the title, or the CTA URL in message.json.',
      });
    }
  }
  return found;
}

export type LoadTemplatesOptions = TemplateCheckOptions;

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
