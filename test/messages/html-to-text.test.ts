import { describe, expect, it } from 'vitest';
import { htmlToText } from '../../engine/messages/html-to-text.js';

describe('the text part derived from HTML', () => {
  it('keeps the cells of a table row apart when the table is written on one line', () => {
    const html =
      '<p>Your order</p><table><tr><td>Subtotal</td><td>€12.50</td></tr><tr><th>Shipping</th><th>Free</th></tr></table>';
    expect(htmlToText(html)).toBe('Your order\n\nSubtotal €12.50\n\nShipping Free');
  });
});
