import { readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { isWebhookSource, type AnyWebhookSource } from '../http/webhook-source.js';
import { isHidden } from '../messages/message-catalog.js';
import { isJourney, JourneyDefinitionError, type Journey } from './define-journey.js';

/** Everything a module in the journeys folder may export. */
export interface JourneyFolder {
  journeys: Journey[];
  webhookSources: AnyWebhookSource[];
}

/**
 * Imports every module in a folder and collects the journeys and inbound webhook sources it
 * exports. A journey's versions may live side by side (`export const welcomeV1 = …; export const welcome = …`).
 */
export async function loadJourneyFolder(dir: string): Promise<JourneyFolder> {
  const folder: JourneyFolder = { journeys: [], webhookSources: [] };
  for (const path of journeyModulePaths(dir)) addOnce(folder, await importJourneyModule(path));
  const ids = folder.webhookSources.map((source) => source.id);
  const duplicate = ids.find((id, index) => ids.indexOf(id) !== index);
  if (duplicate !== undefined)
    throw new JourneyDefinitionError(
      `Two webhook sources in ${dir} share the id "${duplicate}". To fix: give each source its own id.`,
    );
  return folder;
}

/**
 * Adds what a module exports to what the folder has, each journey and source once: the same
 * object exported again (`export default welcome` beside `export const welcome`, or a module
 * that re-exports another's) is one definition, not an id and version defined twice.
 */
export function addOnce(folder: JourneyFolder, more: JourneyFolder): void {
  for (const journey of more.journeys) if (!folder.journeys.includes(journey)) folder.journeys.push(journey);
  for (const source of more.webhookSources)
    if (!folder.webhookSources.includes(source)) folder.webhookSources.push(source);
}

/**
 * What a journeys folder's module may be named: every extension Node and tsx import (`.mts` and
 * `.cts` for TypeScript written as ES or CommonJS modules), so none is passed over without a word.
 */
const MODULE_FILE = /\.(ts|mts|cts|js|mjs|cjs)$/;
/** Left out: type declarations and tests (`.test.`, `.spec.`); hidden files too, as under templates/. */
const NOT_A_JOURNEY_MODULE = /\.d\.[mc]?ts$|\.(test|spec)\./;

/** The modules of a journeys folder, as absolute paths in name order. */
export function journeyModulePaths(dir: string): string[] {
  return readdirSync(dir)
    .filter((file) => MODULE_FILE.test(file) && !NOT_A_JOURNEY_MODULE.test(file) && !isHidden(file))
    .sort()
    .map((file) => resolve(join(dir, file)));
}

/** The journeys and webhook sources one module exports; a module that fails to import throws. */
export async function importJourneyModule(path: string): Promise<JourneyFolder> {
  let module: Record<string, unknown>;
  try {
    module = (await import(pathToFileURL(path).href)) as Record<string, unknown>;
  } catch (cause) {
    throw new JourneyDefinitionError(`Could not load ${path}: ${describeThrown(cause)}`, { cause });
  }
  const folder: JourneyFolder = { journeys: [], webhookSources: [] };
  for (const [name, value] of Object.entries(module)) {
    // An export is only inspected; one that throws when looked at (a Proxy) is named, not let through.
    try {
      if (isJourney(value))
        addOnce(folder, { journeys: [checkedJourney(value, path, name)], webhookSources: [] });
      else if (isWebhookSource(value))
        addOnce(folder, { journeys: [], webhookSources: [checkedSource(value, path, name)] });
    } catch (cause) {
      if (cause instanceof JourneyDefinitionError) throw cause;
      throw new JourneyDefinitionError(
        `Could not read the export "${name}" of ${path}: ${describeThrown(cause)}`,
        { cause },
      );
    }
  }
  return folder;
}

/** What a module threw, in words: modules may throw anything, `null` included. */
function describeThrown(thrown: unknown): string {
  if (thrown instanceof Error) return thrown.message;
  try {
    return `it threw ${typeof thrown === 'string' ? `"${thrown}"` : String(thrown)}, not an Error`;
  } catch {
    return 'it threw a value that cannot be shown, not an Error';
  }
}

const notMadeBy = (path: string, name: string, maker: string) =>
  new JourneyDefinitionError(
    `The export "${name}" of ${path} is marked as made by ${maker} but is not shaped like it. To fix: create it with ${maker}() rather than by hand.`,
  );

/** Branded by {@link defineJourney}'s symbol, which any object can carry: the shape the engine reads. */
function checkedJourney(value: Journey, path: string, name: string): Journey {
  const ok =
    typeof value.id === 'string' &&
    typeof value.version === 'number' &&
    typeof value.machine === 'object' &&
    value.machine !== null &&
    typeof value.machine.root === 'object' &&
    typeof value.trigger === 'object' &&
    value.trigger !== null;
  if (!ok) throw notMadeBy(path, name, 'defineJourney');
  return value;
}

function checkedSource(value: AnyWebhookSource, path: string, name: string): AnyWebhookSource {
  const ok =
    typeof value.id === 'string' &&
    typeof value.toTrack === 'function' &&
    typeof (value.payload as { safeParse?: unknown } | undefined)?.safeParse === 'function';
  if (!ok) throw notMadeBy(path, name, 'defineWebhookSource');
  return value;
}

/** The journeys a folder exports (see {@link loadJourneyFolder}). */
export async function loadJourneysFromDirectory(dir: string): Promise<Journey[]> {
  return (await loadJourneyFolder(dir)).journeys;
}
