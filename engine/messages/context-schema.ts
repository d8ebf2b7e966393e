import { z } from 'zod';
import type { Journey } from '../journey/define-journey.js';
import type { CoreMessage } from './message-catalog.js';

// Only the parts of zod's definitions this walk reads. zod 4 keeps every schema's definition
// in `_zod.def`, tagged by `type`; wrappers hold `innerType`.
interface Def {
  type: string;
  shape?: Record<string, z.ZodType>;
  catchall?: z.ZodType;
  innerType?: z.ZodType;
  element?: z.ZodType;
  valueType?: z.ZodType;
  options?: z.ZodType[];
  left?: z.ZodType;
  right?: z.ZodType;
  out?: z.ZodType;
  items?: z.ZodType[];
  rest?: z.ZodType | null;
  getter?: () => z.ZodType;
}

function defOf(schema: z.ZodType): Def {
  return (schema as unknown as { _zod: { def: Def } })._zod.def;
}

const WRAPPERS = new Set(['optional', 'nullable', 'default', 'prefault', 'catch', 'readonly', 'nonoptional']);
const LEAVES = new Set([
  'string',
  'number',
  'int',
  'boolean',
  'bigint',
  'symbol',
  'null',
  'undefined',
  'void',
  'never',
  'date',
  'nan',
  'enum',
  'literal',
  'template_literal',
  'file',
  'success',
]);

/**
 * Whether values parsed by `schema` can have `path`: the object shapes contain it (optional,
 * nullable and default unwrapped), or a loose object, a record, `unknown` or `any` on the way
 * accepts any key below it. `[]` or a number steps into an array's element.
 */
export function schemaHasPath(schema: z.ZodType, path: readonly string[], depth = 0): boolean {
  const [head, ...rest] = path;
  if (head === undefined || depth > 64) return true;
  const def = defOf(schema);
  if (WRAPPERS.has(def.type) && def.innerType) return schemaHasPath(def.innerType, path, depth + 1);
  switch (def.type) {
    case 'object': {
      const field = def.shape && Object.hasOwn(def.shape, head) ? def.shape[head] : undefined;
      if (field) return schemaHasPath(field, rest, depth + 1);
      const catchall = def.catchall;
      return (
        catchall !== undefined && defOf(catchall).type !== 'never' && schemaHasPath(catchall, rest, depth + 1)
      );
    }
    case 'record':
      return def.valueType ? schemaHasPath(def.valueType, rest, depth + 1) : true;
    case 'array':
      return (head === '[]' || /^\d+$/.test(head)) && def.element
        ? schemaHasPath(def.element, rest, depth + 1)
        : head === 'length' && rest.length === 0;
    case 'tuple': {
      const item = /^\d+$/.test(head) ? (def.items?.[Number(head)] ?? def.rest ?? undefined) : undefined;
      return item ? schemaHasPath(item, rest, depth + 1) : false;
    }
    case 'union':
      return (def.options ?? []).some((option) => schemaHasPath(option, path, depth + 1));
    case 'intersection':
      return [def.left, def.right].some((side) => side !== undefined && schemaHasPath(side, path, depth + 1));
    case 'pipe':
      return def.out ? schemaHasPath(def.out, path, depth + 1) : true;
    case 'lazy':
      return def.getter ? schemaHasPath(def.getter(), path, depth + 1) : true;
    default:
      // any, unknown, transform, custom and kinds this walk does not know accept any key.
      return !LEAVES.has(def.type);
  }
}

/** The render context's fields that do not depend on the journey. */
const FIXED_ROOTS: Record<string, z.ZodType> = {
  customer: z.object({ id: z.string() }),
  journey: z.object({ id: z.string(), version: z.number(), state: z.string(), stage: z.string() }),
  variants: z.record(z.string(), z.string()),
  locale: z.string(),
  timezone: z.string(),
  unsubscribeUrl: z.string(),
};

/** The roots a template may read, for the fix a problem suggests. */
export const CONTEXT_ROOTS = [
  'profile',
  'trigger',
  'event',
  'data',
  'message',
  ...Object.keys(FIXED_ROOTS),
] as const;

function messageSchema(message: CoreMessage): z.ZodType {
  // Optional fields count only when this message declares them: a template reading an absent
  // brand would render it empty.
  return z.object({
    id: z.string(),
    proposition: z.string(),
    headline: z.string(),
    cta: z.object({ label: z.string(), url: z.string() }),
    ...(message.brand === undefined ? {} : { brand: z.string() }),
    ...(message.tone === undefined ? {} : { tone: z.string() }),
  });
}

/** Where a path should be declared, for the fix of a problem. */
export function declareWhere(root: string): string {
  switch (root) {
    case 'profile':
      return "the journey's profile schema";
    case 'trigger':
      return "the journey's trigger schema";
    case 'event':
      return "the schema of the journey's events (or its trigger)";
    case 'data':
      return "the journey's data schema";
    default:
      return 'the render context';
  }
}

/**
 * Whether a journey's render context has `path` whatever the customer: `profile.*`, `trigger.*`,
 * `event.properties.*` and `data.*` are looked up in the journey's schemas, `message.*` in the
 * core message, the rest in the fixed fields of `RenderContext`. `body` exists only in layouts.
 */
export function contextHasPath(
  journey: Journey,
  message: CoreMessage,
  path: readonly string[],
  inLayout: boolean,
): boolean {
  const [root, ...rest] = path;
  switch (root) {
    case 'profile':
      return schemaHasPath(journey.profile, rest);
    case 'trigger':
      return schemaHasPath(journey.trigger.schema, rest);
    case 'data':
      return schemaHasPath(journey.data, rest);
    case 'message':
      return schemaHasPath(messageSchema(message), rest);
    case 'event': {
      const [field, ...properties] = rest;
      if (field === undefined || (field === 'name' && properties.length === 0)) return true;
      if (field !== 'properties') return false;
      const schemas = [...Object.values(journey.events), journey.trigger.schema];
      return schemas.some((schema) => schemaHasPath(schema, properties));
    }
    case 'body':
      return inLayout && rest.length === 0;
    default: {
      const schema = root !== undefined && Object.hasOwn(FIXED_ROOTS, root) ? FIXED_ROOTS[root] : undefined;
      return schema !== undefined && schemaHasPath(schema, rest);
    }
  }
}
