import { createHash, randomUUID } from 'node:crypto';
import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { customerToken, encodeIdPart } from '../runtime/ids.js';

/**
 * A file name for an operation id. Engine op ids are already letters, digits, `-`, `.` and `%`;
 * anything else (a slash, a leading dot) is encoded so no id can point outside the folder.
 */
export function outboxFileName(opId: string, extension: string): string {
  const safe = /^[A-Za-z0-9_%-][A-Za-z0-9._%-]*$/.test(opId) ? opId : encodeIdPart(opId);
  if (safe.length <= MAX_NAME) return `${safe}.${extension}`;
  // A long customer id makes a long op id, and file systems refuse a name over 255 bytes: the send
  // failed on every attempt. Its start is kept to read, and a hash of the whole tells ids apart;
  // the same id always gets the same name, so a retried send still replaces its file.
  const hash = createHash('sha256').update(opId).digest('hex').slice(0, 32);
  return `${safe.slice(0, MAX_NAME - hash.length - 1)}-${hash}.${extension}`;
}

/**
 * The longest name kept as it is: with the temporary file's dot, `.<uuid>.tmp` (42 bytes) and an
 * extension, within the 255 bytes a file name may take. Safe names are ASCII: a byte a character.
 */
const MAX_NAME = 200;

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

/** How much of a name outboxFileName keeps as it is when it shortens it with a hash. */
const KEPT_OF_LONG_NAME = MAX_NAME - 33;

/**
 * Deletes the files (and temporary files left by a process that died mid-write) of
 * `<outboxDir>/<folder>/` that sends to `customerId` wrote. Their names are their operation ids
 * (see outboxFileName), which start `s-<customer token>-` (see sendOpId), the token having no
 * dash. A customer id so long that a shortened name keeps only part of that start (over 160
 * characters once encoded) is told by the file's content: `ownedBy` says whether the file is the
 * customer's. Returns how many files went; none when the folder does not exist.
 */
export async function eraseOutboxFiles(
  outboxDir: string,
  folder: string,
  customerId: string,
  ownedBy: (content: string, opPrefix: string) => boolean,
): Promise<number> {
  const dir = resolve(outboxDir, folder);
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return 0;
    throw error;
  }
  const opPrefix = `s-${customerToken(customerId)}-`;
  const readable = opPrefix.length <= KEPT_OF_LONG_NAME;
  const start = readable ? opPrefix : opPrefix.slice(0, KEPT_OF_LONG_NAME);
  let deleted = 0;
  for (const name of names) {
    const temporary = name.startsWith('.');
    if (!(temporary ? name.slice(1) : name).startsWith(start)) continue;
    const path = join(dir, name);
    if (!readable && !temporary) {
      const content = await readFile(path, 'utf8').catch(() => undefined);
      if (content !== undefined && !ownedBy(content, opPrefix)) continue;
    }
    await rm(path, { force: true });
    deleted += 1;
  }
  return deleted;
}

/** Deletes the file `<outboxDir>/<folder>/` holds for the operation `opId`, if any. */
export async function eraseOutboxFile(
  outboxDir: string,
  folder: string,
  opId: string,
  extension: string,
): Promise<void> {
  await rm(join(resolve(outboxDir, folder), outboxFileName(opId, extension)), { force: true });
}
