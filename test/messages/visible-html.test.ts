import { describe, expect, it } from 'vitest';
import { carriesPhrase } from '../../engine/messages/carries-phrase.js';
import { visibleHtml, visibleLinks } from '../../engine/messages/visible-html.js';

describe('visibleHtml', () => {
  it.each([
    ['a hidden element closed by its own end tag', '<div hidden>x</div>seen', 'seen'],
    ['nested elements of the hidden one’s name', '<div hidden><div>x</div>y</div>seen', 'seen'],
    [
      'a hidden element left open, ended by the cell around it',
      '<td><div hidden>x</td>seen',
      '<td></td>seen',
    ],
    [
      'a hidden cell ended by the next cell (end tag left out)',
      '<tr><td hidden>x<td>seen</tr>',
      '<tr><td>seen</tr>',
    ],
    ['a hidden paragraph ended by a block', '<p hidden>x<div>seen</div>', '<div>seen</div>'],
    ['an end tag of an element not open, inside a hidden one', '<div hidden></span>x</div>seen', 'seen'],
    ['markup inside a script’s string', '<div><script>"</div>"</script>seen</div>', '<div>seen</div>'],
    ['a hidden element open to the end', 'seen<div hidden>x', 'seen'],
    ['a transparent element', '<span style="opacity: 0.0">x</span>seen', 'seen'],
    [
      'a zero-height box that cuts its overflow',
      '<div style="height:0px;overflow:hidden !important">x</div>seen',
      'seen',
    ],
    [
      'a hidden element written self-closing, which HTML leaves open',
      '<td><div style="display:none"/>x</td>seen',
      '<td></td>seen',
    ],
    [
      'a hidden element left open in a cell ended by the next cell',
      '<tr><td><div hidden>x<td>seen</tr>',
      '<tr><td><td>seen</tr>',
    ],
    [
      'a hidden element left open in a list item',
      '<ul><li><span hidden>x<li>seen</ul>',
      '<ul><li><li>seen</ul>',
    ],
    ['a hidden element after an empty comment', '<!-->seen<div hidden>x</div>', 'seen'],
    ['a comment closed with --!>', '<!-- x --!>seen', 'seen'],
  ])('leaves out %s', (_case, html, seen) => {
    expect(visibleHtml(html)).toBe(seen);
  });

  it.each([
    ['a zero height that does not cut its overflow', '<div style="max-height:0">x</div>'],
    [
      'a column wrapper of font size 0',
      '<div style="font-size:0px"><span style="font-size:14px">x</span></div>',
    ],
    ['an opacity above 0', '<span style="opacity:0.5">x</span>'],
    ['a textarea holding a hidden-looking tag', '<textarea><div hidden></textarea>x'],
    ['what follows an empty comment', '<!--->x'],
    ['an outer list item after a hidden nested one', '<ul><li><ol><li hidden>y<li>x</ol>'],
    ['an outer cell holding a table with a hidden cell', '<td><table><tr><td hidden>y<td>x</table>'],
    ['what follows a hidden self-closing SVG element', '<svg><rect hidden/></svg>x'],
  ])('keeps %s', (_case, html) => {
    expect(visibleHtml(html)).toContain('x');
  });

  it('finds links after a hidden element left open inside a cell', () => {
    expect(visibleLinks('<td><div hidden>pre</td><td><a href="https://x.com/a">a</a></td>')).toEqual([
      'https://x.com/a',
    ]);
  });
});

describe('carriesPhrase', () => {
  it.each([
    ['Big  SALE today', 'big sale', true],
    ['(Sale) today', 'Sale', true],
    ['Sale!', 'Sale', true],
    ['Wholesale prices', 'Sale', false],
    ['Salesmen', 'Sale', false],
    ['Get 120% off', '20% off', false],
    ['Get 20% off', '20% off', true],
    ['Cafés open', 'Café', false],
    ['Café open', 'Café', true],
    ['夏のセール開催中', 'セール', true],
    ['세일을 시작합니다', '세일', true],
    ['!!! today', '!!!', true],
    ['anything', '', true],
  ])('%j carries %j: %s', (text, phrase, carried) => {
    expect(carriesPhrase(text, phrase)).toBe(carried);
  });
});
