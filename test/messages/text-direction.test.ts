import { describe, expect, it } from 'vitest';
import { createTemplateEnvironment } from '../../engine/messages/handlebars-env.js';

const text = createTemplateEnvironment('text');

describe('the textDirection helper', () => {
  const dir = (locale: unknown) => text.compile('{{textDirection}}')({ locale });
  it('says rtl for a locale written right to left, ltr otherwise and for no locale', () => {
    expect(dir('ar-EG')).toBe('rtl');
    expect(dir('ur_PK')).toBe('rtl');
    expect(dir('de-DE')).toBe('ltr');
    expect(dir(undefined)).toBe('ltr');
    expect(dir('Deutsch!')).toBe('ltr');
  });
});
