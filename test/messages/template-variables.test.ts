import { describe, expect, it } from 'vitest';
import { parseTemplate } from '../../engine/messages/handlebars-env.js';
import type { TemplateFile } from '../../engine/messages/template-set.js';
import { scanTemplate } from '../../engine/messages/template-variables.js';

const file = (source: string, path = 'inline.hbs'): TemplateFile => ({
  path,
  source,
  ast: parseTemplate(source),
});

function reads(source: string, partials: Record<string, string> = {}) {
  const registered = new Map(
    Object.entries(partials).map(([name, text]) => [name, file(text, `${name}.hbs`)]),
  );
  return scanTemplate(file(source), 'html', registered).variables.map(
    (use) => `${use.path.join('.')}${use.guarded ? ' (guarded)' : ''}`,
  );
}

describe('finding the variables a template reads', () => {
  it('resolves @root, ../ and block params to paths from the root', () => {
    expect(
      reads(
        '{{#with profile}}{{firstName}} {{../locale}} {{@root.timezone}}{{/with}}{{#each data.items as |it|}}{{it.sku}}{{@index}}{{/each}}',
      ),
    ).toEqual([
      'profile (guarded)',
      'profile.firstName',
      'locale',
      'timezone',
      'data.items (guarded)',
      'data.items.[].sku',
    ]);
  });

  it("guards default's first argument and the path an #if tests, not its else branch", () => {
    expect(
      reads(
        '{{default profile.a profile.b}}{{#if profile.c}}{{profile.c}}{{profile.d}}{{else}}{{profile.c}}{{/if}}',
      ),
    ).toEqual([
      'profile.a (guarded)',
      'profile.b',
      'profile.c (guarded)',
      'profile.c (guarded)',
      'profile.d',
      'profile.c',
    ]);
  });

  it("records how much of a path enclosing blocks test, and guards json's argument and #each items", () => {
    const scan = scanTemplate(
      file(
        '{{#if profile.address}}{{profile.address.city}}{{/if}}{{json profile.a}}' +
          '{{#each data.items as |item|}}{{item.sku}}{{else}}{{data.items.length}}{{/each}}',
      ),
      'json',
      new Map(),
    );
    expect(scan.variables.map((use) => [use.path.join('.'), use.guarded, use.guardedDepth])).toEqual([
      ['profile.address', true, 2],
      ['profile.address.city', false, 2],
      ['profile.a', true, 2],
      ['data.items', true, 2],
      ['data.items.[].sku', false, 2],
      ['data.items.length', false, 0],
    ]);
  });

  it('guards the else branch of an #unless on the same path', () => {
    expect(reads('{{#unless profile.vip}}{{profile.vip}}{{else}}{{profile.vip}}{{/unless}}')).toEqual([
      'profile.vip (guarded)',
      'profile.vip',
      'profile.vip (guarded)',
    ]);
  });

  it('reads into partials, with their context and hash arguments', () => {
    expect(
      reads('{{> card profile name=trigger.plan}}{{#*inline "note"}}{{data.note}}{{/inline}}{{> note}}', {
        card: '{{firstName}} on {{name}}',
      }),
    ).toEqual(['profile.firstName', 'trigger.plan', 'data.note']);
  });

  it('takes a value passed to a partial as read only where the partial reads it, under its guards', () => {
    // A partial given a missing value renders it empty: only what it writes needs a fallback.
    expect(
      reads('{{> coupon trigger.coupon}}{{> button url=data.link}}', {
        coupon: '{{#if code}}<p>{{code}}</p>{{/if}}',
        button: '{{#if url}}<a href="{{url}}">Go</a>{{/if}}',
      }),
    ).toEqual([
      'trigger.coupon.code (guarded)',
      'trigger.coupon.code (guarded)',
      'data.link (guarded)',
      'data.link (guarded)',
    ]);
  });

  it('names helpers and partials that do not exist', () => {
    const scan = scanTemplate(
      file('{{shout profile.a}}\n{{> nowhere}}{{formatDate trigger.at "d MMM"}}'),
      'html',
      new Map(),
    );
    expect(scan.unknownHelpers).toEqual([{ name: 'shout', file: 'inline.hbs', line: 1 }]);
    expect(scan.missingPartials).toEqual([{ name: 'nowhere', file: 'inline.hbs', line: 2 }]);
    expect(scanTemplate(file('{{json profile}}'), 'html', new Map()).unknownHelpers).toHaveLength(1);
    expect(scanTemplate(file('{{json profile}}'), 'json', new Map()).unknownHelpers).toEqual([]);
  });
});
