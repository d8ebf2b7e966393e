import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createTemplateEnvironment } from '../../engine/messages/handlebars-env.js';
import { MessageRenderError, MessageRenderer } from '../../engine/messages/message-renderer.js';
import { checkTemplates } from '../../engine/messages/template-checks.js';
import { TemplateSet } from '../../engine/messages/template-set.js';
import { renderContext } from './render-context.js';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** A templates folder with one message, `hook`, whose webhook template is `source`. */
function webhookTemplates(source: string, partials: Record<string, string> = {}): TemplateSet {
  const dir = mkdtempSync(join(tmpdir(), 'chorus-webhook-'));
  dirs.push(dir);
  mkdirSync(join(dir, 'hook'));
  mkdirSync(join(dir, '_brand'));
  writeFileSync(
    join(dir, 'hook', 'message.json'),
    JSON.stringify({
      id: 'hook',
      proposition: 'Tea, picked by hand',
      headline: 'Spring sale',
      cta: { label: 'Shop', url: 'https://example.com/sale' },
    }),
  );
  writeFileSync(join(dir, 'hook', 'webhook.json.hbs'), source);
  for (const [name, text] of Object.entries(partials))
    writeFileSync(join(dir, '_brand', `${name}.hbs`), text);
  return TemplateSet.fromDirectory(dir);
}

describe('webhook JSON templates', () => {
  it('refuse a raw value, which a trait could use to break out of its string', () => {
    const env = createTemplateEnvironment('json');
    expect(() => env.compile('{ "name": "{{profile.firstName}}" }')).toThrow(/write it as \{\{json …\}\}/);
  });

  it('escape every value written with json', () => {
    const env = createTemplateEnvironment('json');
    const render = env.compile('{ "name": {{json profile.firstName}} }');
    const payload = JSON.parse(render({ profile: { firstName: 'x", "admin": true, "x": "' } })) as Record<
      string,
      unknown
    >;
    expect(payload).toEqual({ name: 'x", "admin": true, "x": "' });
  });

  it('name the file that writes a raw value, at load time and at send time', () => {
    const templates = webhookTemplates(
      '{"headline": {{json message.headline}}, "url": {{json message.cta.url}},\n "name": "{{profile.firstName}}"}',
    );
    const file = templates.template('hook', 'webhook.json')!.path;
    const [problem] = checkTemplates(templates);
    expect(problem?.text).toContain(
      `${file} failed to render with placeholder values: line 2: {{profile.firstName}} writes a raw value`,
    );
    const render = () =>
      new MessageRenderer(templates).render('hook', 'webhook', renderContext(templates.message('hook')!));
    expect(render).toThrow(MessageRenderError);
    expect(render).toThrow(file);
  });
});

describe('webhook JSON templates including a brand partial', () => {
  it('refuse a raw value the partial writes, which a trait could use to break out of its string', () => {
    const templates = webhookTemplates(
      '{"headline": {{json message.headline}}, "url": {{json message.cta.url}}, "contact": {{> contact}} }',
      { contact: '"{{profile.email}}"' },
    );
    const [problem] = checkTemplates(templates);
    expect(problem?.text).toContain(
      'partial "contact" line 1: {{profile.email}} writes a raw value into JSON',
    );
    const render = () =>
      new MessageRenderer(templates).render(
        'hook',
        'webhook',
        renderContext(templates.message('hook')!, { profile: { email: 'x", "admin": true, "y": "' } }),
      );
    expect(render).toThrow(/partial "contact" line 1/);
  });

  it('take a partial that writes every value with json', () => {
    const templates = webhookTemplates(
      '{"headline": {{json message.headline}}, "url": {{json message.cta.url}}, "contact": {{> contact}} }',
      { contact: '{"email": {{json profile.email}} }' },
    );
    expect(checkTemplates(templates)).toEqual([]);
    const rendered = new MessageRenderer(templates).render(
      'hook',
      'webhook',
      renderContext(templates.message('hook')!, { profile: { email: 'x", "admin": true, "y": "' } }),
    );
    expect(rendered.payload.contact).toEqual({ email: 'x", "admin": true, "y": "' });
  });
});

describe('a webhook template whose value closes its object', () => {
  it('is refused with the fix: a space between the value and the brace', () => {
    const templates = webhookTemplates(
      '{"headline": {{json message.headline}}, "url": {{json message.cta.url}}, "name": {{json profile.firstName}}}',
    );
    const [problem] = checkTemplates(templates);
    expect(problem?.text).toContain(
      `${templates.template('hook', 'webhook.json')!.path} is not a valid template`,
    );
    expect(problem?.text).toContain('write a space between the "}}" of a value and a "}" after it');
  });
});
