import { readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { isWebhookSource, type AnyWebhookSource } from '../http/webhook-source.js';
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
  for (const path of journeyModulePaths(dir)) {
    const loaded = await importJourneyModule(path);
    folder.journeys.push(...loaded.journeys);
    folder.webhookSources.push(...loaded.webhookSources);
  }
  const ids = folder.webhookSources.map((source) => source.id);
  const duplicate = ids.find((id, index) => ids.indexOf(id) !== index);
  if (duplicate !== undefined)
    throw new JourneyDefinitionError(
      `Two webhook sources in ${dir} share the id "${duplicate}". To fix: give each source its own id.`,
    );
  return folder;
}

/** The modules of a journeys folder, as absolute paths in name order (tests and type declarations left out). */
export function journeyModulePaths(dir: string): string[] {
  return readdirSync(dir)
    .filter((file) => /\.(ts|js|mjs)$/.test(file) && !file.endsWith('.d.ts') && !/\.test\./.test(file))
    .sort()
    .map((file) => resolve(join(dir, file)));
}

/** The journeys and webhook sources one module exports; a module that fails to import throws. */
export async function importJourneyModule(path: string): Promise<JourneyFolder> {
  let module: Record<string, unknown>;
  try {
    module = (await import(pathToFileURL(path).href)) as Record<string, unknown>;
  } catch (cause) {
    throw new JourneyDefinitionError(`Could not load ${path}: ${(cause as Error).message}`, { cause });
  }
  return {
    journeys: Object.values(module).filter(isJourney),
    webhookSources: Object.values(module).filter(isWebhookSource),
  };
}

/** The journeys a folder exports (see {@link loadJourneyFolder}). */
export async function loadJourneysFromDirectory(dir: string): Promise<Journey[]> {
  return (await loadJourneyFolder(dir)).journeys;
}
