import { readFileSync } from 'node:fs';

/**
 * The installed package's version, from its package.json: what `chorus --version` prints, so a
 * bug report or a CI log says which release checked the journeys.
 */
export function packageVersion(): string {
  const manifest = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
    version?: unknown;
  };
  return typeof manifest.version === 'string' ? manifest.version : 'unknown';
}
