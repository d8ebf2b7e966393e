import { describe, expect, it } from 'vitest';
import { MessageRenderer } from '../../engine/messages/message-renderer.js';
import type { RenderedFor } from '../../engine/messages/rendered-message.js';
import { trackRendered, type LinkTracking } from '../../engine/tracking/track-links.js';
import {
  trackingSecret,
  verifyTrackingToken,
  type TrackedSend,
} from '../../engine/tracking/tracking-token.js';
import { TemplateSet } from '../../engine/messages/template-set.js';
import { htmlLinks, textLinks } from '../../engine/messages/utm.js';
import { renderContext } from '../messages/render-context.js';

const templates = TemplateSet.fromDirectory('test/fixtures/templates-render');
const renderer = new MessageRenderer(templates);
const context = renderContext(templates.message('hello')!, {
  trigger: { deadline: '2026-11-23T10:00:00Z', price: 12, count: 2 },
});
const unsubscribe = context.unsubscribeUrl;
/** The links of message hello that the brand chose: what its sends track. */
const links = { brand: (url: string) => renderer.isBrandLink('hello', url), keep: [unsubscribe] };
const secret = trackingSecret('test-secret-of-sixteen');
const tracking: LinkTracking = { baseUrl: 'https://chorus.example.com', secret };
const send: TrackedSend = {
  opId: 'op-1',
  customerId: 'cust-1',
  journeyId: 'onboarding',
  message: 'hello',
  channel: 'email',
  variant: 'control',
};

/** Where each tracked link leads, read back from its token; other links as they are. */
function targets(links: readonly string[], kind: 'c' | 'o' = 'c'): string[] {
  const prefix = `https://chorus.example.com/t/${kind}/`;
  return links.map((link) => {
    if (!link.startsWith(prefix)) return link;
    const claim = verifyTrackingToken(secret, link.slice(prefix.length));
    return claim?.kind === 'click' ? claim.url : `verified ${claim?.kind ?? 'nothing'}`;
  });
}

describe('tracking a rendered message', () => {
  const email = renderer.render('hello', 'email', context);
  const tracked = trackRendered(email, send, tracking, links) as RenderedFor<'email'>;

  it('turns every http(s) link of the HTML into a tracked link leading to the UTM-tagged URL', () => {
    const before = htmlLinks(email.html);
    const after = htmlLinks(tracked.html);
    expect(before.filter((l) => l.startsWith('https://example.com')).length).toBeGreaterThanOrEqual(2);
    for (const link of after) expect(link.startsWith('https://example.com')).toBe(false);
    expect(targets(after)).toEqual(before);
    expect(before.some((l) => l.includes('utm_medium=email'))).toBe(true);
  });

  it('leaves the unsubscribe link, mailto: and tel: as they are', () => {
    const after = htmlLinks(tracked.html);
    expect(after).toContain(unsubscribe);
    expect(after).toContain('mailto:hello@example.com');
    expect(after).toContain('tel:+15555550123');
  });

  it('tracks the links of the text part too, except the unsubscribe URL', () => {
    const before = textLinks(email.text);
    const after = textLinks(tracked.text);
    expect(targets(after)).toEqual(before);
    expect(after.filter((l) => l.startsWith('https://chorus.example.com/t/c/')).length).toBe(
      before.length - 1,
    );
    expect(after).toContain(unsubscribe);
  });

  it('adds a 1×1 open pixel just before </body>, signed for this send', () => {
    const pixel =
      /<img src="https:\/\/chorus\.example\.com\/t\/o\/([^"]+)" width="1" height="1" alt=""[^>]*><\/body>/.exec(
        tracked.html,
      );
    expect(pixel).not.toBeNull();
    expect(verifyTrackingToken(secret, pixel![1]!)).toEqual({ kind: 'open', ...send });
  });

  it('changes nothing with links and opens turned off', () => {
    expect(trackRendered(email, send, { ...tracking, links: false, opens: false }, links)).toEqual(email);
    const linksOnly = trackRendered(
      email,
      send,
      { ...tracking, opens: false },
      links,
    ) as RenderedFor<'email'>;
    expect(linksOnly.html).not.toContain('/t/o/');
    expect(linksOnly.html).toContain('/t/c/');
  });

  it('never tracks a link twice', () => {
    expect(trackRendered(tracked, send, { ...tracking, opens: false }, links)).toEqual(tracked);
  });

  it('leaves the stylesheets, web fonts and CSS images a mail client fetches on every open untracked', () => {
    // An MJML layout's head: tracked, each open that loaded the font was counted as a click.
    const font = 'https://fonts.googleapis.com/css?family=Ubuntu:300,400,500,700';
    const head =
      `<head><link href="${font}" rel="stylesheet" type="text/css"><LINK rel="icon" href="https://example.com/icon.png">` +
      `<style type="text/css">@import url(${font});\n.hero { background: url('https://example.com/hero.jpg') }</style>` +
      `<!--[if mso]><STYLE>.x { background: url(https://example.com/mso.png); }</STYLE><![endif]--></head>`;
    const body = '<body><a href="https://example.com/a">A</a> or https://example.com/b</body>';
    const html = `<html>${head}${body}</html>`;
    const out = trackRendered(
      { channel: 'email', subject: 'Hi', html, text: '' },
      send,
      { ...tracking, opens: false },
      links,
    ) as RenderedFor<'email'>;
    expect(out.html.slice(0, out.html.indexOf('<body>'))).toBe(`<html>${head}`);
    expect(targets(htmlLinks(out.html.slice(out.html.indexOf('<body>'))))).toEqual([
      'https://example.com/a',
      'https://example.com/b',
    ]);
    expect(out.html.match(/\/t\/c\//g)).toHaveLength(2);
  });

  it('tracks SMS links and counts the longer body’s segments again', () => {
    const sms = renderer.render('hello', 'sms', context);
    const out = trackRendered(sms, { ...send, channel: 'sms' }, tracking, links) as RenderedFor<'sms'>;
    expect(targets(textLinks(out.body))).toEqual(textLinks(sms.body));
    expect(out.body).toContain('https://chorus.example.com/t/c/');
    expect(out.segments).toBeGreaterThan(sms.segments);
  });

  it('tracks the push URL and in-app CTA, and leaves webhook payloads alone', () => {
    const push = renderer.render('hello', 'push', context);
    const trackedPush = trackRendered(
      push,
      { ...send, channel: 'push' },
      tracking,
      links,
    ) as RenderedFor<'push'>;
    expect(targets([trackedPush.url])).toEqual([push.url]);
    expect(trackedPush.url).not.toBe(push.url);

    const inApp = renderer.render('hello', 'in-app', context);
    const trackedInApp = trackRendered(
      inApp,
      { ...send, channel: 'in-app' },
      tracking,
      links,
    ) as RenderedFor<'in-app'>;
    expect(targets([trackedInApp.cta.url])).toEqual([inApp.cta.url]);
    expect(targets(htmlLinks(trackedInApp.body))).toEqual(htmlLinks(inApp.body));
    expect(trackedInApp.body).toContain('/t/c/');

    const webhook = renderer.render('hello', 'webhook', context);
    expect(trackRendered(webhook, { ...send, channel: 'webhook' }, tracking, links)).toEqual(webhook);
  });
});
