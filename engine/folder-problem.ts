import { statSync } from 'node:fs';

/**
 * Why `dir` cannot be read as a folder, or `undefined` when it can. A relative path resolves
 * against the folder the process runs in, which the answer names: most often a command was run
 * from another folder than the project's root.
 */
export function folderProblem(dir: string): string | undefined {
  const found = statSync(dir, { throwIfNoEntry: false });
  if (found?.isDirectory()) return undefined;
  return `${found ? 'is not a folder' : 'does not exist'} (looked for from ${process.cwd()})`;
}
