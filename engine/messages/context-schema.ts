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
/** Kinds whose value may be missing: `null`, `undefined`, or anything at all. */
const EMPTY = new Set(['null', 'undefined', 'void', 'any', 'unknown']);

/** How a value reaches templates: parsed by its schema, or as stored before any parsing. */
export interface MissingOptions {
  /**
   * The value is read as stored, not as its schema parses it (the profile: templates see the
   * customer's traits): `.default()`, `.prefault()` and `.catch()` then fill nothing in, and a
   * field with one may be missing. Default false.
   */
  unparsed?: boolean;
}

const FILLS_IN = new Set(['default', 'prefault', 'catch']);

/**
 * Unwraps the wrappers around one value, outermost first, and says whether it may be missing:
 * `.optional()` and `.nullable()` make it so; `.default()`, `.prefault()` and `.catch()` fill in
 * `undefined` (not `null`), so an `.optional()` inside them does not count, unless the value is
 * read `unparsed`, when nothing fills it in.
 */
function unwrap(schema: z.ZodType, options: MissingOptions): { inner: z.ZodType; mayBeMissing: boolean } {
  let inner = schema;
  let undefinedSettled = false;
  let mayBeMissing = false;
  for (let guard = 0; guard < 64; guard++) {
    const def = defOf(inner);
    if (def.innerType === undefined) break;
    if (def.type === 'optional' && !undefinedSettled) mayBeMissing = true;
    else if (def.type === 'nullable') mayBeMissing = true;
    else if (FILLS_IN.has(def.type) && options.unparsed) mayBeMissing = true;
    else if (FILLS_IN.has(def.type) || def.type === 'nonoptional') undefinedSettled = true;
    else if (def.type !== 'readonly') break;
    inner = def.innerType;
  }
  return { inner, mayBeMissing };
}

/**
 * Where along `path` a value parsed by `schema` may be missing: `undefined` when the schema
 * cannot have the path at all, else the length of the longest prefix of `path` whose value may
 * be absent, `null` or `undefined` (`0`: the whole path is always there).
 *
 * A path exists when the object shapes contain it, or a loose object, a record, `unknown` or
 * `any` on the way accepts any key below it; such keys may always be missing, as may
 * `.optional()` and `.nullable()` fields (and, read `unparsed`, fields with a default), a union's
 * key that some option lacks, and an array element read by index. `[]` steps into an array's
 * element, or a record's value, as `{{#each}}` does: present.
 *
 * @example
 * missingFrom(z.object({ a: z.object({ b: z.string() }).optional() }), ['a', 'b']); // 1: `a` may be missing
 */
export function missingFrom(
  schema: z.ZodType,
  path: readonly string[],
  options: MissingOptions = {},
): number | undefined {
  const walk = (node: z.ZodType, at: number, missing: number, depth: number): number | undefined => {
    if (depth > 64) return missing;
    const { inner, mayBeMissing } = unwrap(node, options);
    const here = mayBeMissing ? Math.max(missing, at) : missing;
    const def = defOf(inner);
    const head = path[at];
    if (head === undefined) {
      const empty =
        EMPTY.has(def.type) ||
        (def.type === 'union' &&
          (def.options ?? []).some((option) => {
            const { inner: value, mayBeMissing: missingOption } = unwrap(option, options);
            return missingOption || EMPTY.has(defOf(value).type);
          }));
      return empty ? Math.max(here, at) : here;
    }
    const next = at + 1;
    switch (def.type) {
      case 'object': {
        const field = def.shape && Object.hasOwn(def.shape, head) ? def.shape[head] : undefined;
        if (field) return walk(field, next, here, depth + 1);
        const catchall = def.catchall;
        return catchall !== undefined && defOf(catchall).type !== 'never'
          ? walk(catchall, next, Math.max(here, next), depth + 1)
          : undefined;
      }
      case 'record':
        if (!def.valueType) return path.length;
        // `{{#each}}` steps into the values a record has; a key read by name may be absent.
        return walk(def.valueType, next, head === '[]' ? here : Math.max(here, next), depth + 1);
      case 'array':
        if (head === '[]' && def.element) return walk(def.element, next, here, depth + 1);
        if (/^\d+$/.test(head) && def.element)
          return walk(def.element, next, Math.max(here, next), depth + 1);
        return head === 'length' && next === path.length ? here : undefined;
      case 'tuple': {
        if (!/^\d+$/.test(head)) return undefined;
        const fixed = def.items?.[Number(head)];
        if (fixed) return walk(fixed, next, here, depth + 1);
        return def.rest ? walk(def.rest, next, Math.max(here, next), depth + 1) : undefined;
      }
      case 'union': {
        const found = (def.options ?? []).map((option) => walk(option, at, here, depth + 1));
        const present = found.filter((value): value is number => value !== undefined);
        if (present.length === 0) return undefined;
        // An option without the path: the value may be of that option, so all of it may be missing.
        return present.length < found.length ? path.length : Math.max(...present);
      }
      case 'intersection': {
        const found = [def.left, def.right].flatMap((side) =>
          side === undefined ? [] : (walk(side, at, here, depth + 1) ?? []),
        );
        return found.length === 0 ? undefined : Math.min(...found);
      }
      case 'pipe':
        return def.out ? walk(def.out, at, here, depth + 1) : path.length;
      case 'lazy':
        return def.getter ? walk(def.getter(), at, here, depth + 1) : path.length;
      default:
        // any, unknown, transform, custom and kinds this walk does not know accept any key, which
        // may be missing.
        return LEAVES.has(def.type) ? undefined : path.length;
    }
  };
  return walk(schema, 0, 0, 0);
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

/**
 * {@link missingFrom} for a path below `profile`. Templates see the customer's traits as stored
 * (the delivery worker reads them at send time), not as the journey's profile schema parses
 * them, so a trait's `.default()` or `.catch()` never reaches a template.
 */
export function missingFromTraits(journey: Journey, path: readonly string[]): number | undefined {
  return missingFrom(journey.profile, path, { unparsed: true });
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

/** Shifts a schema's {@link missingFrom} to a path `offset` steps below the context's root. */
function below(missing: number | undefined, offset: number): number | undefined {
  return missing === undefined ? undefined : missing === 0 ? 0 : missing + offset;
}

/**
 * Where along `path` a journey's render context may lack a value, as {@link missingFrom} says
 * for schemas: `undefined` when the context cannot have `path` at all, `0` when it always has
 * it, else the length of the longest prefix that may be missing. `profile.*`, `trigger.*` and
 * `data.*` are looked up in the journey's schemas, `message.*` in the core message, the rest in
 * the fixed fields of `RenderContext`. `event.properties.*` may always be missing: the event
 * that caused a send may be another one, or a timer. `body` exists only in layouts.
 */
export function contextMissing(
  journey: Journey,
  message: CoreMessage,
  path: readonly string[],
  inLayout: boolean,
): number | undefined {
  const [root, ...rest] = path;
  switch (root) {
    case 'profile':
      return below(missingFromTraits(journey, rest), 1);
    case 'trigger':
      return below(missingFrom(journey.trigger.schema, rest), 1);
    case 'data':
      return below(missingFrom(journey.data, rest), 1);
    case 'message':
      return below(missingFrom(messageSchema(message), rest), 1);
    case 'event': {
      const [field, ...properties] = rest;
      if (field === undefined || (field === 'name' && properties.length === 0)) return 0;
      if (field !== 'properties') return undefined;
      if (properties.length === 0) return 0;
      const schemas = [...Object.values(journey.events), journey.trigger.schema];
      const found = schemas.flatMap((schema) => below(missingFrom(schema, properties), 2) ?? []);
      return found.length === 0 ? undefined : Math.max(3, ...found);
    }
    case 'body':
      return inLayout && rest.length === 0 ? 0 : undefined;
    default: {
      const schema = root !== undefined && Object.hasOwn(FIXED_ROOTS, root) ? FIXED_ROOTS[root] : undefined;
      return schema === undefined ? undefined : below(missingFrom(schema, rest), 1);
    }
  }
}

/**
 * Whether a journey declares no trigger properties: its trigger schema is the empty loose object
 * `defineJourney` gives a trigger without `properties`, so every `trigger.*` is a guess.
 */
export function declaresNoTrigger(journey: Journey): boolean {
  const def = defOf(journey.trigger.schema);
  return (
    def.type === 'object' &&
    Object.keys(def.shape ?? {}).length === 0 &&
    def.catchall !== undefined &&
    defOf(def.catchall).type !== 'never'
  );
}
