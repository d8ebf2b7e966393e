import { helperNames, type TemplateMode } from './handlebars-env.js';
import type { TemplateFile } from './template-set.js';

/** One variable a template reads. */
export interface VariableUse {
  /** The path from the render context's root, e.g. `['profile', 'firstName']`; `[]` is an array element. */
  path: string[];
  /** As written in the template: `firstName` inside `{{#with profile}}`, `@root.locale`. */
  written: string;
  /**
   * Has a fallback: read as the first argument of `default` (its fallback) or `json` (which
   * writes `null`), as the test of an `#if`, `#unless`, `#with` or `#each`, or inside the block
   * that such a test on this very path guards.
   */
  guarded: boolean;
  /**
   * How much of `path` an enclosing block has tested, as a prefix length: `{{#if profile.address}}`
   * around `{{profile.address.city}}` gives 2, so a missing `address` is handled but a missing
   * `city` is not. `path.length` when `guarded`, `0` when nothing encloses it.
   */
  guardedDepth: number;
  file: string;
  line: number;
}

/** A helper or partial a template names that does not exist. */
export interface TemplateReference {
  name: string;
  file: string;
  line: number;
}

/** What a template (and every partial it uses) reads and calls. */
export interface TemplateScan {
  variables: VariableUse[];
  unknownHelpers: TemplateReference[];
  missingPartials: TemplateReference[];
}

type Path = string[] | null;

/** Helpers whose first argument may be missing: `default` falls back, `json` writes `null`. */
const FALLBACK_HELPERS = new Set(['default', 'json']);

interface Scope {
  /** The context of each enclosing `with`/`each`, innermost last, as root paths (null: not known). */
  stack: readonly Path[];
  /** Block params (`as |item|`) and partial hash arguments, by name. */
  locals: ReadonlyMap<string, Path>;
  /** Root paths, joined by dots, that an enclosing block tests. */
  guards: ReadonlySet<string>;
  file: TemplateFile;
  inline: ReadonlyMap<string, hbs.AST.Program>;
  trail: readonly string[];
}

type Node = hbs.AST.Node & Record<string, unknown>;

const key = (path: string[]) => path.join('.');

/**
 * Walks a template's AST, and those of the partials it includes, collecting every variable it
 * reads (resolved through `with`, `each`, block params, `../` and `@root` to a path from the
 * context's root), the helpers it calls that do not exist, and the partials that are missing.
 */
export function scanTemplate(
  file: TemplateFile,
  mode: TemplateMode,
  partials: ReadonlyMap<string, TemplateFile>,
): TemplateScan {
  const helpers = helperNames(mode);
  const scan: TemplateScan = { variables: [], unknownHelpers: [], missingPartials: [] };

  const line = (node: hbs.AST.Node) => node.loc?.start.line ?? 0;

  const resolve = (path: hbs.AST.PathExpression, scope: Scope): Path => {
    if (path.data) return path.parts[0] === 'root' && path.parts.length > 1 ? path.parts.slice(1) : null;
    const head = path.parts[0];
    if (path.depth === 0 && head !== undefined && scope.locals.has(head)) {
      const local = scope.locals.get(head) ?? null;
      return local && [...local, ...path.parts.slice(1)];
    }
    const base = scope.stack[scope.stack.length - 1 - path.depth];
    return base ? [...base, ...path.parts] : null;
  };

  const use = (path: hbs.AST.PathExpression, scope: Scope, guarded: boolean): Path => {
    const resolved = resolve(path, scope);
    if (resolved && resolved.length > 0) {
      const exact = guarded || scope.guards.has(key(resolved));
      let guardedDepth = exact ? resolved.length : 0;
      for (let depth = resolved.length - 1; depth > guardedDepth; depth--) {
        if (scope.guards.has(key(resolved.slice(0, depth)))) guardedDepth = depth;
      }
      scan.variables.push({
        path: resolved,
        written: path.original,
        guarded: exact,
        guardedDepth,
        file: scope.file.path,
        line: line(path),
      });
    }
    return resolved;
  };

  const expression = (node: hbs.AST.Expression, scope: Scope, guarded: boolean): Path => {
    if (node.type === 'PathExpression') return use(node as hbs.AST.PathExpression, scope, guarded);
    if (node.type === 'SubExpression') {
      const sub = node as hbs.AST.SubExpression;
      call(sub.path, sub.params, sub.hash, scope, guarded);
    }
    return null;
  };

  const isSimple = (path: hbs.AST.PathExpression) =>
    !path.data && path.depth === 0 && path.parts.length === 1;

  const call = (
    path: hbs.AST.PathExpression,
    params: hbs.AST.Expression[],
    hash: hbs.AST.Hash | undefined,
    scope: Scope,
    guarded: boolean,
  ) => {
    if (!helpers.has(path.original)) {
      scan.unknownHelpers.push({ name: path.original, file: scope.file.path, line: line(path) });
    }
    params.forEach((param, index) =>
      expression(param, scope, guarded || (FALLBACK_HELPERS.has(path.original) && index === 0)),
    );
    for (const pair of hash?.pairs ?? []) expression(pair.value, scope, guarded);
  };

  const withGuard = (scope: Scope, path: Path): Scope =>
    path ? { ...scope, guards: new Set([...scope.guards, key(path)]) } : scope;

  const enter = (scope: Scope, context: Path, blockParams: string[] | undefined, params: Path[]): Scope => {
    const locals = new Map(scope.locals);
    blockParams?.forEach((name, index) => locals.set(name, params[index] ?? null));
    return { ...scope, stack: [...scope.stack, context], locals };
  };

  const block = (node: hbs.AST.BlockStatement, scope: Scope) => {
    const name = node.path.original;
    const first = node.params[0];
    const isHelper = node.params.length > 0 || (node.hash?.pairs.length ?? 0) > 0 || helpers.has(name);
    if (!isHelper) {
      // `{{#profile}}…{{/profile}}`: a section, rendering its block with that value as context.
      const path = use(node.path, scope, true);
      program(node.program, withGuard(enter(scope, path, node.program?.blockParams, [path]), path));
      program(node.inverse, scope);
      return;
    }
    if ((name === 'if' || name === 'unless' || name === 'with' || name === 'each') && first) {
      const path = expression(first, scope, true);
      for (const pair of node.hash?.pairs ?? []) expression(pair.value, scope, false);
      const inner = node.program;
      if (name === 'with') program(inner, withGuard(enter(scope, path, inner?.blockParams, [path]), path));
      else if (name === 'each') {
        const item = path && [...path, '[]'];
        // The block runs only for the items of a list that exists.
        program(inner, withGuard(enter(scope, item, inner?.blockParams, [item, null]), path));
      } else program(inner, name === 'if' ? withGuard(scope, path) : scope);
      program(node.inverse, name === 'unless' ? withGuard(scope, path) : scope);
      return;
    }
    call(node.path, node.params, node.hash, scope, false);
    program(node.program, scope);
    program(node.inverse, scope);
  };

  const partial = (node: hbs.AST.PartialStatement | hbs.AST.PartialBlockStatement, scope: Scope) => {
    if (node.name.type === 'SubExpression') {
      expression(node.name, scope, false);
      return;
    }
    const name = node.name.original;
    if (node.name.data) return; // {{> @partial-block}}
    // A value passed to a partial is not written by passing it (a missing one renders nothing):
    // what the partial reads of it is found, with its own guards, when the partial is walked.
    const passed = (value: hbs.AST.Expression): Path =>
      value.type === 'PathExpression'
        ? resolve(value as hbs.AST.PathExpression, scope)
        : expression(value, scope, false);
    const context = node.params[0] ? passed(node.params[0]) : undefined;
    const locals = new Map(scope.locals);
    for (const pair of node.hash?.pairs ?? []) locals.set(pair.key, passed(pair.value));
    if ('program' in node) program(node.program, scope);
    if (scope.trail.includes(name)) return;
    const inline = scope.inline.get(name);
    const found = inline ? undefined : partials.get(name);
    if (!inline && !found?.ast) {
      if (!found) scan.missingPartials.push({ name, file: scope.file.path, line: line(node) });
      return;
    }
    program(inline ?? found?.ast, {
      ...scope,
      stack: context === undefined ? scope.stack : [context],
      locals,
      file: found ?? scope.file,
      trail: [...scope.trail, name],
    });
  };

  const program = (node: hbs.AST.Program | undefined, outer: Scope) => {
    if (!node) return;
    const inline = new Map(outer.inline);
    for (const statement of node.body as Node[]) {
      // {{#*inline "name"}}…{{/inline}} defines a partial for the rest of the template.
      if (statement.type === 'DecoratorBlock') {
        const decorator = statement as unknown as hbs.AST.BlockStatement;
        const id = decorator.params[0] as hbs.AST.StringLiteral | undefined;
        if (decorator.path.original === 'inline' && id?.type === 'StringLiteral')
          inline.set(id.value, decorator.program);
      }
    }
    const scope = { ...outer, inline };
    for (const statement of node.body as Node[]) {
      switch (statement.type) {
        case 'MustacheStatement': {
          const mustache = statement as unknown as hbs.AST.MustacheStatement;
          if (mustache.path.type !== 'PathExpression') break;
          const path = mustache.path as hbs.AST.PathExpression;
          const isCall =
            mustache.params.length > 0 ||
            (mustache.hash?.pairs.length ?? 0) > 0 ||
            (isSimple(path) && helpers.has(path.original));
          if (isCall) call(path, mustache.params, mustache.hash, scope, false);
          else use(path, scope, false);
          break;
        }
        case 'BlockStatement':
          block(statement as unknown as hbs.AST.BlockStatement, scope);
          break;
        case 'PartialStatement':
        case 'PartialBlockStatement':
          partial(statement as unknown as hbs.AST.PartialStatement, scope);
          break;
      }
    }
  };

  program(file.ast, {
    stack: [[]],
    locals: new Map(),
    guards: new Set(),
    file,
    inline: new Map(),
    trail: [],
  });
  return scan;
}
