import { readFileSync } from 'node:fs';
import type { z } from 'zod';
import { InvalidInputError, parseInput } from '../ingest/ingest-schema.js';

// Drops the byte order mark Windows tools put first (Notepad's "UTF-8 with BOM", PowerShell 5's
// -Encoding utf8), which JSON.parse refuses as an unexpected token the reader cannot see; refuses
// bytes that are not UTF-8 (PowerShell 5's > writes UTF-16), which a lenient read would turn into
// U+FFFD and simulate or render.
const utf8 = new TextDecoder('utf-8', { fatal: true });

/** How problems name an input file: `-` is standard input, not a file named -. */
export const inputName = (path: string) => (path === '-' ? 'from standard input' : path);

/** The command's standard input, given with its I/O so tests need not own the process's. */
export interface StandardInput {
  /** Whether it is a terminal: someone would have to type JSON and end it with Ctrl-D. */
  isTerminal: boolean;
  read(): Buffer;
}

/** The process's own standard input. */
export const processStdin = (): StandardInput => ({
  isTerminal: process.stdin.isTTY === true,
  read: () => readFileSync(0),
});

/**
 * Reads a JSON file given on the command line and parses it with `schema`; `-` is standard input,
 * as for most command lines (`generate-events | chorus simulate welcome --events -`).
 *
 * @throws InvalidInputError naming the file when it cannot be read or is not JSON, and every bad
 * field (`events.2.at: …`) when it does not match; for `-` at a terminal, at once, where the
 * command would have waited without a word for JSON typed in and Ctrl-D.
 */
export function readJsonInput<T extends z.ZodType>(
  path: string,
  schema: T,
  what: string,
  input: StandardInput = processStdin(),
): z.output<T> {
  const stdin = path === '-';
  // Named in problems as what it is: "-: is not JSON" read as a file named -.
  const name = stdin ? 'standard input' : path;
  if (stdin && input.isTerminal)
    throw new InvalidInputError(
      [{ field: name, message: 'is a terminal, with nothing piped in' }],
      what,
      'pipe the JSON into the command (generate-events | chorus …, or < file.json), or give the path of a file instead of -.',
    );
  let bytes: Buffer;
  try {
    bytes = stdin ? input.read() : readFileSync(path);
  } catch (error) {
    throw new InvalidInputError(
      [{ field: name, message: `cannot be read (${(error as Error).message})` }],
      what,
      stdin
        ? 'pipe the JSON into the command, or give the path of a file instead of -.'
        : 'give the path of a file that exists and can be read, relative to the folder the command runs in.',
    );
  }
  let text: string;
  try {
    text = utf8.decode(bytes);
  } catch {
    throw new InvalidInputError([{ field: name, message: 'is not UTF-8' }], what, 'save the file as UTF-8.');
  }
  // Nothing piped in (the command run alone, or a generator that failed): not a JSON error.
  if (stdin && text.trim() === '')
    throw new InvalidInputError(
      [{ field: name, message: 'is empty' }],
      what,
      'pipe the JSON into the command (generate-events | chorus …), or give the path of a file instead of -.',
    );
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new InvalidInputError(
      [{ field: name, message: `is not JSON (${(error as Error).message})` }],
      what,
      'make the file valid JSON (no comments or trailing commas).',
    );
  }
  return parseInput(schema, json, `${what} ${inputName(path)}`);
}
