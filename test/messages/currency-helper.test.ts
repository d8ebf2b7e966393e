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

  it('writes the amount with the code as given when the data holds no code, rather than failing the send for good', () => {
    // A shop's event data with a symbol: every send with it failed, retried and was lost.
    expect(price(12, 'US$')).toBe('12.00 US$');
    expect(price('1234.5', ' EURO ')).toBe('1,234.50 EURO');
    expect(text.compile('{{currency total currency}}')({ total: 12, currency: 'US$', locale: 'de-DE' })).toBe(
      '12,00 US$',
    );
  });
});
