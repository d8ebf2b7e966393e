import { describe, expect, it } from 'vitest';
import { createTemplateEnvironment } from '../../engine/messages/handlebars-env.js';

const text = createTemplateEnvironment('text');
const render = (source: string, count: unknown, locale: string) => text.compile(source)({ count, locale });

describe('the plural helper', () => {
  const english = '{{plural count "cup" "cups"}}';

  it('picks the one or other form for English and writes the count in the locale', () => {
    expect(render(english, 1, 'en-US')).toBe('1 cup');
    expect(render(english, 0, 'en-US')).toBe('0 cups');
    expect(render(english, 2, 'en-US')).toBe('2 cups');
    expect(render(english, 1.5, 'en-US')).toBe('1.5 cups');
    expect(render(english, 12000, 'en-US')).toBe('12,000 cups');
    expect(render('{{plural count "tin"}}', 3, 'en-GB')).toBe('3 tins');
  });

  // Polish: 1 plik, 2-4 pliki, 5-21 plików, 22-24 pliki, fractions pliku.
  const polish = '{{plural count one="plik" few="pliki" many="plików" other="pliku"}}';

  it('picks among the forms given as a hash with the rules of the customer’s language', () => {
    const forms = [1, 2, 4, 5, 12, 21, 22, 25, 1.5].map((n) => render(polish, n, 'pl-PL'));
    expect(forms).toEqual([
      '1 plik',
      '2 pliki',
      '4 pliki',
      '5 plików',
      '12 plików',
      '21 plików',
      '22 pliki',
      '25 plików',
      '1,5 pliku',
    ]);
  });

  it('uses Russian rules for Russian forms, where 21 takes the one form', () => {
    const russian = '{{plural count one="чашка" few="чашки" many="чашек" other="чашки"}}';
    expect([1, 3, 5, 21].map((n) => render(russian, n, 'ru'))).toEqual([
      '1 чашка',
      '3 чашки',
      '5 чашек',
      '21 чашка',
    ]);
  });

  it('falls back to the other form for a category without one, and from a bad locale to en-US', () => {
    expect(render('{{plural count "plik" "pliki"}}', 5, 'pl')).toBe('5 pliki');
    expect(render(english, 1, 'not a locale!')).toBe('1 cup');
    expect(render(english, 'many', 'en-US')).toBe('0 cups');
  });
});
