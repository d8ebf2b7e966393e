import { describe, expect, it } from 'vitest';
import { createTemplateEnvironment } from '../../engine/messages/handlebars-env.js';

const text = createTemplateEnvironment('text');
const price = (total: unknown, currency: unknown) =>
  text.compile('{{currency total currency}}')({ total, currency, locale: 'en-US' });

describe('the currency helper', () => {
  it('takes a code from event data with spaces around it or in lower case', () => {
    expect(price(12, 'EUR')).toBe('€12.00');
    expect(price(12, ' eur ')).toBe('€12.00');
    expect(price('12.5', 'usd')).toBe('$12.50');
  });

  it('still refuses what is no code, naming it', () => {
    expect(() => price(12, 'US$')).toThrow(/currency "US\$" is not a three-letter ISO 4217 code/);
  });
});
