import { describe, expect, it } from 'vitest';
import { BrandHosts, BrandLinkHostsError, literalHosts } from '../../engine/messages/brand-hosts.js';
import { MessageRenderer } from '../../engine/messages/message-renderer.js';
import type { RenderedFor, RenderContext } from '../../engine/messages/rendered-message.js';
import { TemplateSet } from '../../engine/messages/template-set.js';
import { htmlLinks, textLinks } from '../../engine/messages/utm.js';
import { trackRendered, type LinkTracking } from '../../engine/tracking/track-links.js';
import {
  trackingSecret,
  verifyTrackingToken,
  type TrackedSend,
} from '../../engine/tracking/tracking-token.js';
import { renderContext } from '../messages/render-context.js';

const templates = TemplateSet.fromDirectory('test/fixtures/templates-links');
const secret = trackingSecret('test-secret-of-sixteen');
const tracking: LinkTracking = { baseUrl: 'https://chorus.example.com', secret, opens: false };
const send: TrackedSend = {
  opId: 'op-1',
  customerId: 'mallory',
  journeyId: 'notify',
  message: 'nudge',
  channel: 'email',
  variant: 'control',
};
const PHISH = 'https://evil.example/login?next=%2Faccount';

/** A send of `nudge` to a customer whose sign-up form's website field held `website`. */
function context(website: string, overrides: Partial<RenderContext> = {}): RenderContext {
  return renderContext(templates.message('nudge')!, { profile: { website }, ...overrides });
}

/** The message as the delivery worker sends it: rendered, then its brand's links tracked. */
function sent<C extends 'email' | 'sms' | 'in-app' | 'webhook'>(
  channel: C,
  ctx: RenderContext,
  renderer = new MessageRenderer(templates),
): { rendered: RenderedFor<C>; tracked: RenderedFor<C> } {
  const rendered = renderer.render('nudge', channel, ctx);
  const brand = (url: string) => renderer.isBrandLink('nudge', url);
  const tracked = trackRendered(rendered, { ...send, channel }, tracking, {
    brand,
    keep: [ctx.unsubscribeUrl],
  }) as RenderedFor<C>;
  return { rendered, tracked };
}

/** Where each link leads: a tracked one's URL read back from its token, marked; others as they are. */
function targets(links: readonly string[]): string[] {
  const prefix = 'https://chorus.example.com/t/c/';
  return links.map((link) => {
    if (!link.startsWith(prefix)) return link;
    const claim = verifyTrackingToken(secret, link.slice(prefix.length));
    return `tracked ${claim?.kind === 'click' ? claim.url : 'nothing'}`;
  });
}

const tags = (medium: string) =>
  `utm_source=chorus&utm_medium=${medium}&utm_campaign=onboarding&utm_content=nudge-control`;

describe('links a customer typed in: only the brand’s links are tracked', () => {
  it('sends a website trait as rendered, while the CTA, a written link and the layout’s are tracked', () => {
    const { tracked } = sent('email', context(PHISH));
    expect(targets(htmlLinks(tracked.html))).toEqual([
      `tracked https://shop.example.com/start?${tags('email')}`,
      `tracked https://journal.example.org/tea?${tags('email')}`,
      PHISH,
      PHISH,
      `tracked https://brand.example/about?${tags('email')}`,
      'https://chorus.example.com/u/cust-1?sig=abc',
    ]);
    expect(tracked.html).toContain(`<a href="${PHISH}">${PHISH}</a>`);
  });

  it('leaves the URL in the text part and an SMS untracked and untagged too', () => {
    const email = sent('email', context(PHISH)).tracked;
    const inText = targets(textLinks(email.text));
    // The link whose text is its URL is written once: `Your site: https://evil.example/…`.
    expect(inText.filter((link) => !link.startsWith('tracked '))).toEqual([
      PHISH,
      'https://chorus.example.com/u/cust-1?sig=abc',
    ]);
    expect(email.text).toContain(`Your site: ${PHISH}\n`);
    expect(inText.filter((link) => link.startsWith('tracked ')).length).toBe(3);

    const sms = sent('sms', context(PHISH)).tracked;
    expect(targets(textLinks(sms.body))).toEqual([
      `tracked https://shop.example.com/start?${tags('sms')}`,
      PHISH,
      `tracked https://journal.example.org/tea?${tags('sms')}`,
    ]);
  });

  it('does not take a host that only begins or ends like the brand’s for one of its own', () => {
    for (const website of [
      'https://shop.example.com.evil.example/',
      'https://shop.example.com@evil.example/',
      'https://evil.example/https://shop.example.com/',
      'https://evilshop.example.com/',
      'https://example.com/',
    ]) {
      const links = htmlLinks(sent('email', context(website)).tracked.html);
      expect(links, website).toContain(website);
    }
  });

  it('tracks a data link to the brand’s own host (the CTA’s), as a product from a catalogue', () => {
    const product = 'https://shop.example.com/p/sencha';
    const ctx = context(PHISH, { event: { name: 'Viewed', properties: { productUrl: product } } });
    const links = targets(htmlLinks(sent('email', ctx).tracked.html));
    expect(links).toContain(`tracked ${product}?${tags('email')}`);
  });

  it('keeps the in-app CTA tracked and the typed-in link as it is', () => {
    const { tracked } = sent('in-app', context(PHISH));
    expect(targets([tracked.cta.url])).toEqual([`tracked https://shop.example.com/start?${tags('in-app')}`]);
    expect(targets(htmlLinks(tracked.body))).toEqual([
      `tracked https://shop.example.com/start?${tags('in-app')}`,
      PHISH,
    ]);
  });

  it('tags only the brand’s URLs of a webhook payload', () => {
    const { tracked } = sent('webhook', context(PHISH));
    expect(tracked.payload).toEqual({
      cta: `https://shop.example.com/start?${tags('webhook')}`,
      website: PHISH,
    });
  });

  it('tracks and tags hosts of the configured list, * standing for any subdomain', () => {
    const renderer = new MessageRenderer(templates, {
      brandLinkHosts: ['partner.example', '*.cdn.example'],
    });
    for (const [website, brand] of [
      ['https://partner.example/offer', true],
      ['https://img.cdn.example/a.png', true],
      ['https://a.b.cdn.example/a.png', true],
      ['https://cdn.example/a.png', false],
      ['https://www.partner.example/offer', false],
    ] as const) {
      const links = targets(textLinks(sent('sms', context(website), renderer).tracked.body));
      expect(links[1], website).toBe(brand ? `tracked ${website}?${tags('sms')}` : website);
    }
  });
});

describe('the hosts a brand chose', () => {
  it('are read from URLs written in templates, never from what a variable fills in', () => {
    expect(
      literalHosts(
        '<a href="https://Shop.Example.com/a">x</a> https://{{profile.site}}/x https://{{a}}.example/ ' +
          'http://blog.example.org:8080/ https://brand.example{{path}} mailto:x@y.example',
      ),
    ).toEqual(['shop.example.com', 'blog.example.org', 'brand.example']);
  });

  it('are refused in the configured list when they are no host name, and read as links are', () => {
    for (const bad of [
      'https://shop.example.com',
      'shop.example.com/path',
      'shop.example.com:8080',
      '*',
      'a.*.example',
      'a b',
      '',
    ]) {
      expect(() => new BrandHosts(templates, [bad]), bad).toThrow(BrandLinkHostsError);
    }
    const brand = new BrandHosts(templates, [' Shop.Example.COM ', '*.例え.jp']);
    expect(brand.allows('nudge', 'https://shop.example.com/')).toBe(true);
    expect(brand.allows('nudge', 'https://お茶.例え.jp/')).toBe(true);
  });
});
