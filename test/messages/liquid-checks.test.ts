import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkTemplates } from '../../engine/messages/template-checks.js';
import { TemplateSet } from '../../engine/messages/template-set.js';

/** The problems of a folder with one message `m` whose email HTML is `html`, and brand partials. */
function problemsOf(html: string, partials: Record<string, string> = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'chorus-liquid-'));
  try {
    mkdirSync(join(dir, 'm'));
    mkdirSync(join(dir, '_brand'));
    writeFileSync(
      join(dir, 'm', 'message.json'),
      JSON.stringify({
        id: 'm',
        proposition: 'Tea for you.',
        headline: 'Fresh blends are here',
        cta: { label: 'Shop now', url: 'https://example.com/shop' },
      }),
    );
    writeFileSync(join(dir, 'm', 'email.subject.hbs'), '{{message.headline}}');
    writeFileSync(join(dir, 'm', 'email.html.hbs'), html);
    for (const [name, source] of Object.entries(partials))
      writeFileSync(join(dir, '_brand', `${name}.hbs`), source);
    return checkTemplates(TemplateSet.fromDirectory(dir)).map((p) =>
      p.text.replace(/\S*chorus-liquid-\w+\//g, ''),
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const body = '<h1>{{message.headline}}</h1>\n<p><a href="{{message.cta.url}}">Shop</a></p>\n';

describe('a template brought from Liquid (Customer.io, Braze)', () => {
  it('is reported for a Liquid tag, which Handlebars would send as text, naming file and line', () => {
    expect(problemsOf(`${body}<p>\n  {% if customer.vip %}Thanks for being VIP{% endif %}</p>`)).toEqual([
      'Message "m", channel email: m/email.html.hbs line 4 writes the Liquid tag {% if customer.vip %}, which Handlebars sends as text. To fix: write it in Handlebars: {{#if profile.vip}}…{{else}}…{{/if}}, {{#each trigger.products}}…{{/each}}, {{default profile.firstName "there"}} for a fallback.',
    ]);
    expect(
      problemsOf(`${body}{{> vip}}`, { vip: '{{#if profile.vip}}\n{%- assign x = 1 -%}{{/if}}' }),
    ).toEqual([
      expect.stringMatching(
        /^Brand partial: _brand\/vip\.hbs line 2 writes the Liquid tag \{%- assign x = 1 -%\}, which/,
      ),
    ]);
  });

  it('is told that a Liquid filter is a helper written before the value', () => {
    expect(problemsOf(`${body}<p>Hi {{ profile.firstName | default: "there" }}</p>`)).toEqual([
      expect.stringContaining(
        'To fix: Liquid\'s filters ({{ name | default: "there" }}) are helpers in Handlebars, written before the value: {{default profile.firstName "there"}}',
      ),
    ]);
  });

  it("is told that Braze's attribute tags are paths under profile", () => {
    expect(problemsOf(`${body}<p>Hi {{\${first_name}}}</p>`)).toEqual([
      expect.stringContaining(
        'To fix: Braze\'s attribute tags ({{${first_name}}}) are paths in Handlebars, under profile: {{default profile.firstName "there"}}.',
      ),
    ]);
  });

  it('passes text that only looks like a tag, and Handlebars block params', () => {
    expect(
      problemsOf(`${body}<p>100% {tea}; 5 % off</p>{{#each data.items as |item|}}{{item}}{{/each}}`),
    ).toEqual([]);
  });
});
