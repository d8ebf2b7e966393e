import { InvalidInputError } from '../ingest/ingest-schema.js';
import { HttpError } from './http-errors.js';

/**
 * The deepest nesting a JSON body may have. Deeper documents are refused at the door: storing,
 * logging or serialising them recurses once per level and would overflow the stack (a 500)
 * somewhere far from the request. Real events nest a handful of levels.
 */
export const MAX_JSON_DEPTH = 64;

/**
 * Invalid input found while parsing, before any route runs: it carries its status, as error
 * handlers other than ours (bull-board's, in its scope) read `statusCode`.
 */
export class InvalidBodyError extends InvalidInputError {
  readonly statusCode = 400;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

const invalidJson = (what: string) =>
  new HttpError(
    400,
    'CHORUS_INVALID_JSON',
    `The body is not valid JSON (${what}). To fix: send one JSON object.`,
  );

interface Node {
  value: unknown;
  key: string;
  parent: Node | undefined;
  depth: number;
}

const pathOf = (node: Node, root: string) => {
  const keys: string[] = [];
  for (let at: Node | undefined = node; at?.parent; at = at.parent) keys.push(at.key);
  return [root, ...keys.reverse()].join('.');
};

/**
 * Parses a JSON request body as the API accepts it: UTF-8 that decodes without a replacement
 * character, valid JSON, at most {@link MAX_JSON_DEPTH} levels deep, and without the keys that
 * pollute prototypes when an object is merged (`__proto__` anywhere, `constructor.prototype`).
 * Each refusal names what was wrong and where, under `root` (`body`).
 *
 * @throws HttpError `CHORUS_INVALID_JSON` (400) for bytes that are not UTF-8 or text that is not JSON.
 * @throws InvalidInputError (400, with its `statusCode`) naming the field that nests too deep or carries a forbidden key.
 */
export function parseJsonBody(raw: Buffer, root = 'body'): unknown {
  let text: string;
  try {
    text = utf8.decode(raw);
  } catch {
    throw invalidJson('its bytes are not valid UTF-8');
  }
  if (text.trim() === '') throw invalidJson('it is empty');
  let value: unknown;
  try {
    value = JSON.parse(text) as unknown;
  } catch (error) {
    throw invalidJson((error as Error).message);
  }
  checkShape(value, root);
  return value;
}

/** Walks the document without recursion, so depth alone cannot overflow the stack. */
function checkShape(value: unknown, root: string): void {
  const stack: Node[] = [{ value, key: '', parent: undefined, depth: 0 }];
  for (let node = stack.pop(); node; node = stack.pop()) {
    if (typeof node.value !== 'object' || node.value === null) continue;
    if (node.depth >= MAX_JSON_DEPTH)
      throw new InvalidBodyError(
        [{ field: pathOf(node, root), message: `nested deeper than ${MAX_JSON_DEPTH} levels` }],
        'request body',
      );
    const entries = Array.isArray(node.value)
      ? node.value.map((item, index) => [String(index), item] as const)
      : Object.entries(node.value);
    for (const [key, child] of entries) {
      const next: Node = { value: child, key, parent: node, depth: node.depth + 1 };
      const forbidden =
        key === '__proto__' ||
        (key === 'constructor' &&
          typeof child === 'object' &&
          child !== null &&
          Object.hasOwn(child, 'prototype'));
      if (forbidden && !Array.isArray(node.value))
        throw new InvalidBodyError(
          [
            {
              field: pathOf(next, root),
              message: `the key "${key}"${key === 'constructor' ? ' with a "prototype" inside' : ''} is not accepted, as it can alter objects' prototypes; rename it`,
            },
          ],
          'request body',
        );
      stack.push(next);
    }
  }
}
