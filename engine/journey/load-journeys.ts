import { readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { isJourney, JourneyDefinitionError, type Journey } from './define-journey.js';

/**
 * Imports every module in a folder and collects the journeys it exports. A journey's versions
 * may live side by side (`export const welcomeV1 = …; export const welcome = …`).
 */
export async function loadJourneysFromDirectory(dir: string): Promise<Journey[]> {
  const journeys: Journey[] = [];
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
    journeys.push(...Object.values(module).filter(isJourney));
  }
  return journeys;
}
