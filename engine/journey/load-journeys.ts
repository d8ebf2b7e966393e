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
  const files = readdirSync(dir)
    .filter((file) => /\.(ts|js|mjs)$/.test(file) && !file.endsWith('.d.ts') && !/\.test\./.test(file))
    .sort();
  for (const file of files) {
    const path = resolve(join(dir, file));
    let module: Record<string, unknown>;
    try {
      module = (await import(pathToFileURL(path).href)) as Record<string, unknown>;
    } catch (cause) {
      throw new JourneyDefinitionError(`Could not load ${path}: ${(cause as Error).message}`, { cause });
    }
    folder.journeys.push(...Object.values(module).filter(isJourney));
    folder.webhookSources.push(...Object.values(module).filter(isWebhookSource));
  }
  const ids = folder.webhookSources.map((source) => source.id);
  const duplicate = ids.find((id, index) => ids.indexOf(id) !== index);
  if (duplicate !== undefined)
    throw new JourneyDefinitionError(
      `Two webhook sources in ${dir} share the id "${duplicate}". To fix: give each source its own id.`,
    );
  return folder;
}

/** The journeys a folder exports (see {@link loadJourneyFolder}). */
export async function loadJourneysFromDirectory(dir: string): Promise<Journey[]> {
  return (await loadJourneyFolder(dir)).journeys;
}
