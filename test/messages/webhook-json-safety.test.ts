import { describe, expect, it } from 'vitest';
import { createTemplateEnvironment } from '../../engine/messages/handlebars-env.js';

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
});
