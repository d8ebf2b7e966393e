import { readFileSync } from 'node:fs';
import type { z } from 'zod';
import { InvalidInputError, parseInput } from '../ingest/ingest-schema.js';

/**
 * Reads a JSON file given on the command line and parses it with `schema`.
 *
 * @throws InvalidInputError naming the file when it cannot be read or is not JSON, and every bad
 * field (`events.2.at: …`) when it does not match.
 */
export function readJsonInput<T extends z.ZodType>(path: string, schema: T, what: string): z.output<T> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new InvalidInputError(
      [{ field: path, message: `cannot be read (${(error as Error).message})` }],
      what,
      'give the path of a file that exists and can be read, relative to the folder the command runs in.',
    );
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new InvalidInputError(
      [{ field: path, message: `is not JSON (${(error as Error).message})` }],
      what,
      'make the file valid JSON (no comments or trailing commas).',
    );
  }
  return parseInput(schema, json, `${what} ${path}`);
}
