import { describe, expect, it } from 'vitest';
import { createTemplateEnvironment } from '../../engine/messages/handlebars-env.js';

const text = createTemplateEnvironment('text');
const greet = (firstName: unknown) => text.compile('Hi {{default firstName "there"}},')({ firstName });

describe('the default helper', () => {
  it("falls back where Liquid's default does: missing, null, false, an empty list, blank text", () => {
    for (const blank of [undefined, null, '', '   ', '\t', false, []]) expect(greet(blank)).toBe('Hi there,');
  });

  it('keeps a value, 0 among them', () => {
    expect(greet('Ada')).toBe('Hi Ada,');
    expect(greet(0)).toBe('Hi 0,');
    expect(greet(true)).toBe('Hi true,');
  });
});
