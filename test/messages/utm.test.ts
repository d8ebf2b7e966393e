import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeHtmlEntities } from '../../engine/messages/html-entities.js';
import { htmlToText } from '../../engine/messages/html-to-text.js';
import {
  addUtmToHtml,
  addUtmToJson,
  addUtmToText,
  htmlLinks,
  mapHtmlLinks,
  textLinks,
  variantLabel,
  withUtm,
} from '../../engine/messages/utm.js';

const utm = { source: 'chorus', medium: 'email', campaign: 'onboarding', content: 'welcome-tips=tips' };

describe('withUtm', () => {
  it('adds source, medium, campaign and content to a link without them', () => {
    expect(withUtm('https://example.com/blends', utm)).toBe(
      'https://example.com/blends?utm_source=chorus&utm_medium=email&utm_campaign=onboarding&utm_content=welcome-tips%3Dtips',
    );
  });

  it('keeps the parameters already there, byte for byte, and never overwrites a utm_ parameter', () => {
    expect(withUtm('https://example.com/t?q=green%20tea&utm_source=ig#top', utm)).toBe(
      'https://example.com/t?q=green%20tea&utm_source=ig&utm_medium=email&utm_campaign=onboarding&utm_content=welcome-tips%3Dtips#top',
    );
  });

  it('leaves a signed URL as written, since its signature covers the query parameters added', () => {
    // Presigned S3 and Cloud Storage downloads, CloudFront and Laravel signed links: any added
    // parameter makes the signature fail, and the person gets a 403 instead of their invoice.
    for (const url of [
      'https://bucket.s3.amazonaws.com/invoice.pdf?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIA%2F20261123%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20261123T100000Z&X-Amz-Expires=604800&X-Amz-SignedHeaders=host&X-Amz-Signature=0f3a',
      'https://storage.googleapis.com/bucket/export.csv?X-Goog-Algorithm=GOOG4-RSA-SHA256&X-Goog-Expires=900&X-Goog-Signature=9c1d',
      'https://d111111abcdef8.cloudfront.net/receipt.pdf?Expires=1795430000&Signature=Ab~c&Key-Pair-Id=K2JCJMDEHXQW5F',
      'https://shop.example.com/orders/42/receipt?expires=1795430000&signature=8d2e',
    ]) {
      expect(withUtm(url, utm)).toBe(url);
    }
  });

  it('changes nothing when applied twice', () => {
    const once = withUtm('https://example.com/blends?a=1', utm);
    expect(withUtm(once, utm)).toBe(once);
  });

  it('leaves mailto:, tel: and relative links alone', () => {
    for (const url of ['mailto:hello@example.com', 'tel:+15555550123', '/blends', 'not a url']) {
      expect(withUtm(url, utm)).toBe(url);
    }
  });
});

describe('adding UTM parameters to rendered output', () => {
  it('tags every http(s) href and bare URL in HTML but not the unsubscribe URL or a mailto: link', () => {
    const html =
      '<a href="https://example.com/a?x=1&amp;y=2">A</a> <a href="https://example.com/u?t=1">Unsubscribe</a> ' +
      '<a href="mailto:hi@example.com">mail</a> see https://example.com/b.';
    const tagged = addUtmToHtml(html, utm, { keep: ['https://example.com/u?t=1'] });
    expect(tagged).toContain(
      'href="https://example.com/a?x=1&amp;y=2&amp;utm_source=chorus&amp;utm_medium=email',
    );
    expect(tagged).toContain('href="https://example.com/u?t=1"');
    expect(tagged).toContain('href="mailto:hi@example.com"');
    expect(tagged).toMatch(/see https:\/\/example\.com\/b\?utm_source=chorus&amp;[^ ]*tips\.$/);
  });

  it('tags an href written with spaces or line breaks around its URL where a browser reads the URL', () => {
    // A browser drops the whitespace around an href's URL; parameters added after it made the
    // spaces part of the path (/a%20), and kept the unsubscribe URL from being recognised.
    const html =
      '<a href=" https://example.com/a?x=1 ">A</a> <a href="\n  https://example.com/b\n">B</a> ' +
      '<a href=" https://example.com/u?t&#x3D;1 ">Unsubscribe</a>';
    const tagged = addUtmToHtml(html, utm, { keep: ['https://example.com/u?t=1'] });
    const hrefs = [...tagged.matchAll(/href="([^"]*)"/g)].map((m) => decodeHtmlEntities(m[1]!));
    expect(hrefs).toEqual([
      `https://example.com/a?x=1&utm_source=chorus&utm_medium=email&utm_campaign=onboarding&utm_content=welcome-tips%3Dtips`,
      `https://example.com/b?utm_source=chorus&utm_medium=email&utm_campaign=onboarding&utm_content=welcome-tips%3Dtips`,
      'https://example.com/u?t=1',
    ]);
  });

  it('tags an href written without quotes, as an HTML minifier leaves it', () => {
    const html =
      '<a href=https://example.com/a?x=1&amp;y=2>A</a> <a class=b HREF=https://example.com/u?t=1 >U</a>';
    expect(addUtmToHtml(html, utm, { keep: ['https://example.com/u?t=1'] })).toBe(
      '<a href="https://example.com/a?x=1&amp;y=2&amp;utm_source=chorus&amp;utm_medium=email&amp;utm_campaign=onboarding&amp;utm_content=welcome-tips%3Dtips">A</a> ' +
        '<a class=b HREF=https://example.com/u?t=1 >U</a>',
    );
    expect(htmlLinks(html)).toEqual(['https://example.com/a?x=1&y=2', 'https://example.com/u?t=1']);
  });

  it('tags bare URLs in text, leaving trailing punctuation and parentheses to the sentence', () => {
    expect(addUtmToText('Go (https://example.com/a), or https://example.com/b.', utm)).toBe(
      'Go (https://example.com/a?utm_source=chorus&utm_medium=email&utm_campaign=onboarding&utm_content=welcome-tips%3Dtips), ' +
        'or https://example.com/b?utm_source=chorus&utm_medium=email&utm_campaign=onboarding&utm_content=welcome-tips%3Dtips.',
    );
  });
});

describe('links in text of other scripts and typography', () => {
  const tags = 'utm_source=chorus&utm_medium=email&utm_campaign=onboarding&utm_content=welcome-tips%3Dtips';

  it('ends a URL at Chinese and Japanese punctuation, which the sentence writes without a space', () => {
    expect(addUtmToText('セール中：https://example.com/sale。詳細はアプリで', utm)).toBe(
      `セール中：https://example.com/sale?${tags}。詳細はアプリで`,
    );
    expect(addUtmToText('点击 https://example.com/sale，立即购买！', utm)).toBe(
      `点击 https://example.com/sale?${tags}，立即购买！`,
    );
    expect(textLinks('（https://example.com/a）と「https://example.com/b」')).toEqual([
      'https://example.com/a',
      'https://example.com/b',
    ]);
  });

  it('leaves closing curly quotes and an ellipsis to the sentence', () => {
    expect(addUtmToText('Tap “https://example.com/sale” or ‘https://example.com/b’…', utm)).toBe(
      `Tap “https://example.com/sale?${tags}” or ‘https://example.com/b?${tags}’…`,
    );
    expect(textLinks('More: https://example.com/sale…')).toEqual(['https://example.com/sale']);
  });

  it('keeps an apostrophe inside a URL, and leaves the quotes around one to the sentence', () => {
    expect(addUtmToText("Read https://en.wikipedia.org/wiki/Hitchhiker's_Guide tonight.", utm)).toBe(
      `Read https://en.wikipedia.org/wiki/Hitchhiker's_Guide?${tags} tonight.`,
    );
    const html = addUtmToHtml('<p><a href="https://example.com/men\'s-shoes">Shoes</a></p>', utm);
    expect(addUtmToText(htmlToText(html), utm)).toBe(`Shoes (https://example.com/men's-shoes?${tags})`);
    expect(textLinks("Visit 'https://example.com/a', or ('https://example.com/b').")).toEqual([
      'https://example.com/a',
      'https://example.com/b',
    ]);
    expect(htmlLinks("<p>https://example.com/men's-shoes or 'https://example.com/b'.</p>")).toEqual([
      "https://example.com/men's-shoes",
      'https://example.com/b',
    ]);
  });

  it('keeps the letters of a URL written in another script', () => {
    expect(
      textLinks('Lies https://de.wikipedia.org/wiki/Müller. Oder https://ja.wikipedia.org/wiki/東京 を'),
    ).toEqual(['https://de.wikipedia.org/wiki/Müller', 'https://ja.wikipedia.org/wiki/東京']);
  });
});

describe('bare URLs in HTML text', () => {
  const tags =
    'utm_source=chorus&amp;utm_medium=email&amp;utm_campaign=onboarding&amp;utm_content=welcome-tips%3Dtips';

  it('end where a character reference stands for a space, quote or angle bracket', () => {
    // An editor's non-breaking space after a link, and the quotes Handlebars escapes in a trait.
    expect(
      addUtmToHtml(
        '<p>Visit https://example.com/sale&nbsp;today&#160;or https://example.com/b&#xA0;</p>',
        utm,
      ),
    ).toBe(
      `<p>Visit https://example.com/sale?${tags}&nbsp;today&#160;or https://example.com/b?${tags}&#xA0;</p>`,
    );
    expect(
      addUtmToHtml('<p>&quot;https://example.com/a&quot;, &#x27;https://example.com/b&#x27;</p>', utm),
    ).toBe(`<p>&quot;https://example.com/a?${tags}&quot;, &#x27;https://example.com/b?${tags}&#x27;</p>`);
    expect(
      htmlLinks('<p>https://example.com/men&#x27;s-shoes and &#x27;https://example.com/b&#x27;.</p>'),
    ).toEqual(["https://example.com/men's-shoes", 'https://example.com/b']);
    expect(addUtmToHtml('<p>&lt;https://example.com/a?x=1&amp;y=2&gt;.</p>', utm)).toBe(
      `<p>&lt;https://example.com/a?x=1&amp;y=2&amp;${tags}&gt;.</p>`,
    );
  });
});

describe('bare URLs in HTML text before typographic punctuation written as references', () => {
  const tags =
    'utm_source=chorus&amp;utm_medium=email&amp;utm_campaign=onboarding&amp;utm_content=welcome-tips%3Dtips';

  it('end before a closing quote or ellipsis, and keep an apostrophe of their own', () => {
    expect(addUtmToHtml('<p>Tap &ldquo;https://example.com/sale&rdquo; now</p>', utm)).toBe(
      `<p>Tap &ldquo;https://example.com/sale?${tags}&rdquo; now</p>`,
    );
    expect(addUtmToHtml('<p>See https://example.com/sale&hellip;&rdquo;.</p>', utm)).toBe(
      `<p>See https://example.com/sale?${tags}&hellip;&rdquo;.</p>`,
    );
    expect(
      htmlLinks('<p>https://example.com/men&rsquo;s-shoes and &lsquo;https://example.com/b&rsquo;.</p>'),
    ).toEqual(['https://example.com/men’s-shoes', 'https://example.com/b']);
  });
});

describe('links with parentheses', () => {
  const tags = 'utm_source=chorus&utm_medium=email&utm_campaign=onboarding&utm_content=welcome-tips%3Dtips';

  it('keeps the parentheses a URL opened and closed, and tags the whole URL', () => {
    expect(addUtmToText('Read https://en.wikipedia.org/wiki/Pu-erh_(tea) tonight.', utm)).toBe(
      `Read https://en.wikipedia.org/wiki/Pu-erh_(tea)?${tags} tonight.`,
    );
    expect(addUtmToText('Our pick (https://en.wikipedia.org/wiki/Pu-erh_(tea)).', utm)).toBe(
      `Our pick (https://en.wikipedia.org/wiki/Pu-erh_(tea)?${tags}).`,
    );
    expect(textLinks('see https://example.com/a_(b)_c, then')).toEqual(['https://example.com/a_(b)_c']);
  });

  it('finds where a long URL ends in time linear in its length, however many parentheses or stops close it', () => {
    // A trait rendered into a message may hold such a run: the worker must not stall on it.
    const run = (piece: string) => piece.repeat(Math.ceil(30_000 / piece.length));
    for (const [tail, url] of [
      [run(')'), 'https://example.com/a'],
      [run(').'), 'https://example.com/a'],
      [`${run('.')}x)`, `https://example.com/a${run('.')}x`],
    ] as const) {
      const started = performance.now();
      const links = textLinks(`https://example.com/a${tail} end`);
      expect(performance.now() - started, tail.slice(0, 4)).toBeLessThan(500);
      expect(links).toEqual([url]);
    }
  });

  it('ends a URL where the regular expressions of punctuation and unopened parentheses say', () => {
    // The definition: trailing punctuation (a `;` closing a character reference excepted) and a
    // closing parenthesis the URL did not open are left to the sentence, until neither is left.
    const punctuation = /(?:[.,:!?']|;(?<!&#?[0-9a-z]+;))+$/i;
    const count = (text: string, char: string) => text.split(char).length - 1;
    const reference = (match: string): string => {
      let url = match.replace(punctuation, '');
      while (url.endsWith(')') && count(url, ')') > count(url, '(')) {
        url = url.slice(0, -1).replace(punctuation, '');
      }
      return url;
    };
    const char = fc.constantFrom('(', ')', '.', ',', ':', '!', '?', "'", ';', '&', '#', 'a', 'X', '7', '/');
    fc.assert(
      fc.property(fc.array(char, { maxLength: 16 }), (chars) => {
        const match = `https://example.com/${chars.join('')}`;
        expect(textLinks(`${match} end`)).toEqual([reference(match)]);
      }),
      { numRuns: 2000 },
    );
  });

  it('keeps the target of a link whose href is not quoted in a text part derived from HTML', () => {
    const html = addUtmToHtml(
      '<p><a href=https://example.com/a>Shop</a> or <a href=mailto:hi@example.com>write us</a>.</p>' +
        '<p><a class=muted href=https://example.com/u?t=1>Unsubscribe</a></p>',
      utm,
      { keep: ['https://example.com/u?t=1'] },
    );
    expect(htmlToText(html)).toBe(
      `Shop (https://example.com/a?${tags}) or write us (mailto:hi@example.com).\n\nUnsubscribe (https://example.com/u?t=1)`,
    );
  });

  it('keeps such a link whole in a text part derived from HTML', () => {
    const html = addUtmToHtml('<p><a href="https://en.wikipedia.org/wiki/Pu-erh_(tea)">Pu-erh</a></p>', utm);
    expect(addUtmToText(htmlToText(html), utm)).toBe(
      `Pu-erh (https://en.wikipedia.org/wiki/Pu-erh_(tea)?${tags})`,
    );
  });
});

describe('variantLabel', () => {
  it('joins split variants sorted by split, or says control when there are none', () => {
    expect(variantLabel({ tips: 'tips', 'subject-test': 'b' })).toBe('subject-test=b,tips=tips');
    expect(variantLabel({})).toBe('control');
  });
});

describe('adding UTM parameters to a JSON payload', () => {
  it('tags string values that are whole http(s) URLs, at any depth, and nothing else', () => {
    const payload = {
      cta: 'https://example.com/a',
      nested: { items: ['http://example.com/b?x=1#top', 'tel:+15555550123', 42, null] },
      'https://example.com/key': 'a key is not a link',
      prose: 'see https://example.com/c',
      unsubscribe: 'https://example.com/u?t=1',
    };
    expect(addUtmToJson(payload, utm, { keep: ['https://example.com/u?t=1'] })).toEqual({
      cta: 'https://example.com/a?utm_source=chorus&utm_medium=email&utm_campaign=onboarding&utm_content=welcome-tips%3Dtips',
      nested: {
        items: [
          'http://example.com/b?x=1&utm_source=chorus&utm_medium=email&utm_campaign=onboarding&utm_content=welcome-tips%3Dtips#top',
          'tel:+15555550123',
          42,
          null,
        ],
      },
      'https://example.com/key': 'a key is not a link',
      prose: 'see https://example.com/c',
      unsubscribe: 'https://example.com/u?t=1',
    });
  });
});

describe('HTML link rewriting', () => {
  // The two-pass definition: drop <style> and <script> elements (to their end tag, or the end);
  // split each piece between them into tags and text, rewrite the hrefs of each tag but <link>
  // and <base> and the bare URLs of each text, each cut at a character reference for a character
  // that ends a URL (&nbsp;). The one-pass rewriter must find the same links.
  const cut = (link: string): string => {
    const ending = [...link.matchAll(/&(#x[0-9a-f]+|#[0-9]+|[a-z]+);/gi)].find((m) => {
      const char = decodeHtmlEntities(m[0]);
      const rest = link.slice(m.index + m[0].length);
      return /[\s<>"'\u3000-\u303f\uff00-\uffef]/.test(char) && (char !== "'" || /^[.,:!?;)]*$/.test(rest));
    });
    if (ending === undefined) return link;
    const before = link.slice(0, ending.index);
    return textLinks(before)[0] ?? before;
  };
  const reference = (html: string): string[] => {
    const links: string[] = [];
    const pieces = html.replace(/<(style|script)(?=[\s/>])[^>]*>[\s\S]*?(?:<\/\1\s*>|$)/gi, '\uffff');
    for (const markup of pieces.split('\uffff')) {
      markup.replace(/(<[^>]*>)|([^<]+)/g, (_match, tag: string | undefined, text: string | undefined) => {
        if (text !== undefined) links.push(...textLinks(text).map(cut));
        else if (/^<(link|base)[\s/>]/i.test(tag!)) return '';
        else
          for (const m of tag!.matchAll(/(\shref\s*=\s*)(?:(["'])(.*?)\2|([^\s>"'][^\s>]*))/gis))
            links.push((m[3] ?? m[4]!).replace(/^[\t\n\f\r ]+|[\t\n\f\r ]+$/g, ''));
        return '';
      });
    }
    return links;
  };
  const found = (html: string): string[] => {
    const links: string[] = [];
    mapHtmlLinks(html, (url) => {
      links.push(url);
      return url;
    });
    return links;
  };
  const piece = fc.constantFrom(
    '<a href="https://example.com/a?x=1&amp;y=2">',
    "<a HREF='http://example.com/b'>",
    '<img src="https://example.com/i.png">',
    '<link href="https://example.com/f.css">',
    '<a href=https://example.com/f?x=1>',
    '<style>',
    '</STYLE>',
    '</a>',
    '<',
    '>',
    ' see https://example.com/c.',
    'https://example.com/d;',
    '&amp;',
    '&nbsp;',
    '&quot;',
    '&#x27;',
    '(https://example.com/e)',
    ' text ',
    '\n',
  );

  it('finds the same hrefs and bare URLs as splitting into tags and text first', () => {
    fc.assert(
      fc.property(fc.array(fc.oneof(piece, fc.string({ maxLength: 6 })), { maxLength: 20 }), (pieces) => {
        const html = pieces.join('');
        expect(found(html)).toEqual(reference(html).map(decodeHtmlEntities));
      }),
      { numRuns: 500 },
    );
  });

  it('tags a link the same way every time it is asked, with each set of parameters', () => {
    const other = { ...utm, content: 'welcome-control' };
    const first = withUtm('https://example.com/x', utm);
    expect(withUtm('https://example.com/x', other)).not.toBe(first);
    expect(withUtm('https://example.com/x', utm)).toBe(first);
  });
});
