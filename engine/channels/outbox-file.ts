import { randomUUID } from 'node:crypto';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { encodeIdPart } from '../runtime/ids.js';

/**
 * A file name for an operation id. Engine op ids are already letters, digits, `-`, `.` and `%`;
 * anything else (a slash, a leading dot) is encoded so no id can point outside the folder.
 */
export function outboxFileName(opId: string, extension: string): string {
  const safe = /^[A-Za-z0-9_%-][A-Za-z0-9._%-]*$/.test(opId) ? opId : encodeIdPart(opId);
  return `${safe}.${extension}`;
}

/**
 * Writes `<outboxDir>/<folder>/<file>` whole or not at all (write a temporary file, then rename),
 * so a retried send replaces the file instead of adding a second one, and a reader never sees
 * half a message. Returns the absolute path.
 */
export async function writeOutboxFile(
  outboxDir: string,
  folder: string,
  file: string,
  content: string | Uint8Array,
): Promise<string> {
  const dir = resolve(outboxDir, folder);
  await mkdir(dir, { recursive: true });
  const path = join(dir, file);
  const temporary = join(dir, `.${file}.${randomUUID()}.tmp`);
  try {
    await writeFile(temporary, content);
    await rename(temporary, path);
  } catch (error) {
    await rm(temporary, { force: true });
    throw error;
  }
  return path;
}
