import { describe, expect, it } from 'vitest';
import { refusedLinkPage, wantsHtml } from '../../engine/http/routes/html-page.js';

describe('the page a person sees for a refused link', () => {
  it('says the link is not valid, or, when the service is away, to try again; escaping what it quotes', () => {
    const invalid = refusedLinkPage({ status: 400, code: 'CHORUS_X', message: 'bad <script>"&' });
    expect(invalid).toContain('<h1>This link is not valid</h1>');
    expect(invalid).toContain('bad &#60;script&#62;&#34;&#38;');
    expect(invalid).not.toContain('<script>');
    const away = refusedLinkPage({ status: 503, code: 'CHORUS_UNAVAILABLE', message: 'Redis is away' });
    expect(away).toContain('<h1>Please try again in a moment</h1>');
  });

  it('goes to browsers only', () => {
    expect(wantsHtml({ accept: 'text/html,application/xhtml+xml' })).toBe(true);
    expect(wantsHtml({ accept: 'application/json' })).toBe(false);
    expect(wantsHtml({})).toBe(false);
  });
});
