import type { TemplateFile } from './template-set.js';

/** A helper call whose argument at a position is written in the template as a quoted string. */
export interface LiteralArgument {
  line: number;
  value: string;
}

/**
 * The quoted strings one template file (not the partials it includes) passes a helper at
 * `position` (0 for its first argument), wherever the call is: `{{helper …}}`, `{{#helper …}}`
 * or a `(helper …)` subexpression. What a load-time check can judge before any customer's data
 * is there: a value taken from data is the renderer's to handle.
 */
export function literalArguments(file: TemplateFile, helper: string, position: number): LiteralArgument[] {
  const found: LiteralArgument[] = [];
  const walk = (node: unknown): void => {
    if (typeof node !== 'object' || node === null) return;
    const call = node as {
      type?: string;
      path?: { original?: unknown };
      params?: Array<{ type?: string; value?: unknown }>;
      loc?: { start?: { line?: number } };
    };
    const argument = call.params?.[position];
    if (
      (call.type === 'MustacheStatement' ||
        call.type === 'SubExpression' ||
        call.type === 'BlockStatement') &&
      call.path?.original === helper &&
      argument?.type === 'StringLiteral' &&
      typeof argument.value === 'string'
    )
      found.push({ line: call.loc?.start?.line ?? 0, value: argument.value });
    for (const value of Object.values(node)) {
      if (Array.isArray(value)) value.forEach(walk);
      else if (value !== call.loc) walk(value);
    }
  };
  walk(file.ast);
  return found;
}
