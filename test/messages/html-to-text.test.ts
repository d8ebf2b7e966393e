import { describe, expect, it } from 'vitest';
import { htmlToText } from '../../engine/messages/html-to-text.js';

describe('the text part derived from HTML', () => {
  it('keeps the cells of a table row apart when the table is written on one line', () => {
    const html =
      '<p>Your order</p><table><tr><td>Subtotal</td><td>€12.50</td></tr><tr><th>Shipping</th><th>Free</th></tr></table>';
    expect(htmlToText(html)).toBe('Your order\n\nSubtotal €12.50\n\nShipping Free');
  });

  it('reads a tag whose quoted attribute holds a ">", as a browser does', () => {
    const html =
      '<!DOCTYPE html><p><a title="Save > 20%" href="https://x.example.com/sale">Shop</a> now</p>' +
      '<ul><li title="1 > 0">First</li></ul><p><span data-x=\'a>b\'>Fresh</span> tea, 3 < 4</p>';
    expect(htmlToText(html)).toBe('Shop (https://x.example.com/sale) now\n\n- First\n\nFresh tea, 3 < 4');
  });

  it('names a link drawn as an image by its alt text', () => {
    const html =
      '<p><a href="https://x.example.com/sale"><img src="https://x.example.com/b.png" alt="Shop the sale" width="200"></a></p>' +
      '<p><a href="https://x.example.com/tea"><img alt=\'Our &quot;new&quot; tea\' src="t.png" /> and more</a></p>' +
      '<p><a href="https://x.example.com/logo"><img src="logo.png" alt=""></a> ' +
      '<a href=https://x.example.com/bare><img alt=Bare src=b.png></a> <img alt="Not a link"></p>';
    expect(htmlToText(html)).toBe(
      'Shop the sale (https://x.example.com/sale)\n\nOur "new" tea and more (https://x.example.com/tea)\n\n' +
        'https://x.example.com/logo Bare (https://x.example.com/bare)',
    );
  });
});

describe('character references in the HTML', () => {
  it('are decoded in the text part, as a mail client shows them', () => {
    const html =
      '<p>Spring&rsquo;s here &mdash; caf&eacute; blends from &euro;12, &frac12; price&hellip;</p>' +
      '<p>&copy; 2026 Yue Tea&trade; &middot; &Eacute;dition &laquo;&nbsp;printemps&nbsp;&raquo; &AMP; more</p>';
    expect(htmlToText(html)).toBe(
      'Spring’s here — café blends from €12, ½ price…\n\n© 2026 Yue Tea™ · Édition «\u00a0printemps\u00a0» & more',
    );
  });

  it('leave a name HTML does not know as written', () => {
    expect(htmlToText('<p>Fish &chips; and &Copy; and &amp</p>')).toBe('Fish &chips; and &Copy; and &amp');
  });
});
