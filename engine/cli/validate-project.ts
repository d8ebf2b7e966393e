import { folderProblem } from '../folder-problem.js';
import { ConfigError } from '../config.js';
import { ChorusError } from '../errors.js';
import { unknownWebhookSources } from '../http/webhook-source.js';
import { JourneyCatalog, JourneyValidationError } from '../journey/journey-catalog.js';
import {
  addOnce,
  importJourneyModule,
  journeyModulePaths,
  type JourneyFolder,
} from '../journey/load-journeys.js';
import type { MessageCatalog } from '../journey/validate-journey.js';
import { MessageDefinitionError } from '../messages/message-catalog.js';
import { checkTemplates, checkTemplatesForJourneys } from '../messages/template-checks.js';
import { TemplateSet } from '../messages/template-set.js';

/** One problem `chorus validate` found, with where it was found. */
export interface ProjectProblem {
  area: 'journeys' | 'templates' | 'configuration';
  text: string;
}

export interface ProjectReport {
  journeys: string[];
  messages: string[];
  webhookSources: string[];
  problems: ProjectProblem[];
}

/**
 * What to say when a folder the CLI reads is missing: most often, `chorus` was run from another
 * folder than the project's root, and the default (relative) folders resolve against that one.
 */
export const missingFolder = (area: 'journeys' | 'templates', dir: string) =>
  `The ${area} folder ${dir} ${folderProblem(dir) ?? 'cannot be read'}. To fix: run from the project's root, or set ${area.toUpperCase()}_DIR (or --${area}) to the folder.`;

/** Whether `dir` names a folder: a file of that name is read as none. */
export const isFolder = (dir: string): boolean => folderProblem(dir) === undefined;

/** Loading stopped: its error's message (which says how to fix it) becomes the problem. */
const stopped = (area: ProjectProblem['area'], error: unknown): ProjectProblem => {
  if (error instanceof ChorusError) return { area, text: `${error.code}: ${error.message}` };
  throw error;
};

export interface ValidateProjectOptions {
  /** The secrets configured per webhook source (WEBHOOK_SOURCE_SECRETS): each must name a source. */
  webhookSourceSecrets?: Readonly<Record<string, readonly string[]>>;
  /** Links are tracked at this public URL (TRACK_LINKS, PUBLIC_URL): SMS are counted as sent. */
  trackedSmsLinks?: { baseUrl: string };
}

/**
 * Everything the engine checks at start-up, collected instead of thrown: the journeys folder
 * loads, each journey validates against the messages that exist (and no id and version is
 * defined twice), the templates load and pass their checks, alone and against the journeys that
 * send them, and each configured webhook source secret names a source the journeys folder defines.
 * When one folder cannot be loaded at all, the other is still checked as far as it can be.
 *
 * @example
 * const report = await validateProject({ journeys: 'journeys', templates: 'templates' });
 * if (report.problems.length > 0) process.exitCode = 1;
 */
export async function validateProject(
  dirs: { journeys: string; templates: string },
  options: ValidateProjectOptions = {},
): Promise<ProjectReport> {
  const problems: ProjectProblem[] = [];
  const folder: JourneyFolder = { journeys: [], webhookSources: [] };
  const { journeys } = folder;
  if (!isFolder(dirs.journeys)) {
    problems.push({ area: 'journeys', text: missingFolder('journeys', dirs.journeys) });
  } else {
    let allLoaded = true;
    // Module by module, so one that fails to import does not hide the problems of the others.
    for (const path of journeyModulePaths(dirs.journeys)) {
      try {
        addOnce(folder, await importJourneyModule(path));
      } catch (error) {
        problems.push(stopped('journeys', error));
        allLoaded = false;
      }
    }
    const webhookSources = folder.webhookSources.map((source) => source.id);
    for (const id of new Set(webhookSources.filter((id, index) => webhookSources.indexOf(id) !== index)))
      problems.push({
        area: 'journeys',
        text: `Two webhook sources in ${dirs.journeys} share the id "${id}". To fix: give each source its own id.`,
      });
    // As start-up refuses them, in the same words; only when every module loaded, as the sources
    // of one that did not are unknown here.
    const unknown = unknownWebhookSources(options.webhookSourceSecrets, webhookSources);
    if (unknown.length > 0 && allLoaded) problems.push(stopped('configuration', new ConfigError(unknown)));
  }

  let templates: TemplateSet | undefined;
  if (!isFolder(dirs.templates)) {
    problems.push({ area: 'templates', text: missingFolder('templates', dirs.templates) });
  } else {
    try {
      templates = TemplateSet.fromDirectory(dirs.templates);
    } catch (error) {
      // Every bad message.json is named, each as a problem of its own.
      if (error instanceof MessageDefinitionError)
        problems.push(
          ...error.problems.map((text) => ({ area: 'templates' as const, text: `${error.code}: ${text}` })),
        );
      else problems.push(stopped('templates', error));
    }
  }

  // Without the templates, messages cannot be checked: every id passes rather than every one failing.
  const messages: MessageCatalog = templates?.catalog ?? { has: () => true };
  try {
    new JourneyCatalog(journeys, messages);
  } catch (error) {
    if (!(error instanceof JourneyValidationError)) throw error;
    for (const p of error.problems)
      problems.push({
        area: 'journeys',
        text: `${p.journey}${p.state ? ` (state ${p.state})` : ''}: ${p.message}`,
      });
  }

  if (templates) {
    const found = [
      ...checkTemplates(templates, {
        journeys,
        ...(options.trackedSmsLinks ? { trackedSmsLinks: options.trackedSmsLinks } : {}),
      }),
      ...checkTemplatesForJourneys(templates, journeys),
    ];
    problems.push(...found.map((p) => ({ area: 'templates' as const, text: p.text })));
  }
  return {
    journeys: journeys.map((journey) => `${journey.id}@${journey.version}`),
    messages: templates?.messageIds() ?? [],
    webhookSources: folder.webhookSources.map((source) => source.id),
    problems,
  };
}

/** A folder as the report names it, with one `/`: a shell's completion gives `journeys/` already. */
const folderName = (dir: string) => `${dir.replace(/\/+$/, '')}/`;

/** The report for people: every problem, numbered, or a one-line summary when there are none. */
export function formatProjectReport(
  report: ProjectReport,
  dirs: { journeys: string; templates: string },
): string {
  const loaded =
    `${report.journeys.length} journey(s) in ${folderName(dirs.journeys)} (${report.journeys.join(', ') || 'none'}), ` +
    `${report.messages.length} message(s) in ${folderName(dirs.templates)} (${report.messages.join(', ') || 'none'})` +
    (report.webhookSources.length > 0 ? `, webhook sources ${report.webhookSources.join(', ')}` : '');
  if (report.problems.length === 0) return `OK: ${loaded}. No problems found.\n`;
  const lines = [`${report.problems.length} problem(s) found in ${loaded}:`, ''];
  report.problems.forEach((problem, index) => {
    const [first = '', ...rest] = problem.text.split('\n');
    lines.push(`${index + 1}. [${problem.area}] ${first}`, ...rest.map((line) => `   ${line}`));
  });
  return `${lines.join('\n')}\n`;
}
