import type { TemplateProblem } from './template-checks.js';
import { LAYOUTS, type TemplateFile, type TemplateSet } from './template-set.js';

/**
 * Where a template, or a partial it includes, reads `body`: each `{{body}}` or `{{{body}}}` with
 * its line and escaping.
 */
function bodyUses(
  node: unknown,
  file: TemplateFile,
  partials: ReadonlyMap<string, TemplateFile>,
  found: Array<{ file: string; line: number; escaped: boolean }> = [],
  trail: readonly string[] = [],
) {
  if (typeof node !== 'object' || node === null) return found;
  const n = node as Partial<hbs.AST.MustacheStatement> & Partial<hbs.AST.PartialStatement>;
  if (
    n.type === 'MustacheStatement' &&
    n.path?.type === 'PathExpression' &&
    (n.path as hbs.AST.PathExpression).original === 'body' &&
    (n.params?.length ?? 0) === 0
  ) {
    found.push({ file: file.path, line: n.loc?.start.line ?? 0, escaped: n.escaped === true });
  }
  if (
    (n.type === 'PartialStatement' || n.type === 'PartialBlockStatement') &&
    n.name?.type === 'PathExpression'
  ) {
    const name = (n.name as hbs.AST.PathExpression).original;
    const partial = partials.get(name);
    if (partial?.ast && !trail.includes(name))
      bodyUses(partial.ast, partial, partials, found, [...trail, name]);
  }
  for (const value of Object.values(node)) {
    for (const child of Array.isArray(value) ? value : [value]) bodyUses(child, file, partials, found, trail);
  }
  return found;
}

/**
 * What is wrong with how a layout writes the email's body: the HTML one escaped (`{{body}}`),
 * which shows its tags as text, or either not at all, which sends the layout alone. Either
 * breaks every email.
 */
export function layoutBodyProblems(templates: TemplateSet): TemplateProblem[] {
  return [LAYOUTS.html, LAYOUTS.text].flatMap((name) => {
    const layout = templates.partials.get(name);
    if (!layout?.ast) return [];
    const html = name === LAYOUTS.html;
    const uses = bodyUses(layout.ast, layout, templates.partials);
    const escaped = html ? uses.find((use) => use.escaped) : undefined;
    const body = html ? '{{{body}}}' : '{{body}}';
    const text = escaped
      ? `${escaped.file === layout.path ? '' : `includes ${escaped.file}, whose `}line ${escaped.line} writes {{body}}, which escapes the email's HTML, so every email shows its tags as text. To fix: write {{{body}}}.`
      : uses.length > 0
        ? undefined
        : `never writes ${body}, so every email${html ? '' : "'s text part"} is the layout alone, without its message. To fix: write ${body} where the message goes.`;
    return text === undefined ? [] : [{ file: layout.path, text: `Brand layout: ${layout.path} ${text}` }];
  });
}
