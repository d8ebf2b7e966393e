import type { TemplateProblem } from './template-checks.js';
import type { TemplateFile, TemplateSet } from './template-set.js';

// A Liquid tag: `{% if customer.vip %}`, `{%- endif -%}`, as Customer.io and Braze templates write them.
const LIQUID_TAG = /\{%-?\s*([a-z_]+)[^%]*?-?%\}/;

/** The first Liquid tag in a template's text, with its line: Handlebars sends it as text. */
function liquidTag(file: TemplateFile): { tag: string; line: number } | undefined {
  let found: { tag: string; line: number } | undefined;
  const walk = (node: unknown): void => {
    if (found !== undefined || typeof node !== 'object' || node === null) return;
    const content = node as { type?: string; original?: unknown; loc?: { start?: { line?: number } } };
    // `original`: the text as written, before Handlebars strips the line a block tag stands on.
    if (content.type === 'ContentStatement' && typeof content.original === 'string') {
      const match = LIQUID_TAG.exec(content.original);
      if (match) {
        const before = content.original.slice(0, match.index).split('\n').length - 1;
        found = { tag: match[0], line: (content.loc?.start?.line ?? 1) + before };
        return;
      }
    }
    for (const value of Object.values(node)) {
      if (Array.isArray(value)) value.forEach(walk);
      else if (value !== content.loc) walk(value);
    }
  };
  walk(file.ast);
  return found;
}

/**
 * Every template that writes a Liquid tag (`{% if %}`, `{% for %}`, `{% assign %}`), as a
 * template brought from Customer.io or Braze does: Handlebars has no such tags and sends them
 * as text, so every customer would read `{% if customer.vip %}` in the message.
 */
export function liquidTagProblems(templates: TemplateSet): TemplateProblem[] {
  return templates.files().flatMap(({ file, message, channel }) => {
    const found = liquidTag(file);
    if (found === undefined) return [];
    return [
      {
        ...(message === undefined ? {} : { message }),
        ...(channel === undefined ? {} : { channel }),
        file: file.path,
        text: `${message === undefined ? 'Brand partial' : `Message "${message}", channel ${channel}`}: ${file.path} line ${found.line} writes the Liquid tag ${found.tag}, which Handlebars sends as text. To fix: write it in Handlebars: {{#if profile.vip}}…{{else}}…{{/if}}, {{#each trigger.products}}…{{/each}}, {{default profile.firstName "there"}} for a fallback.`,
      },
    ];
  });
}
