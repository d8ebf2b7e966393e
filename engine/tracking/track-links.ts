import type { Channel } from '../journey/journey-schema.js';
import type { RenderedMessage } from '../messages/rendered-message.js';
import { smsSegments } from '../messages/sms-segments.js';
import { mapHtmlLinks, mapTextLinks } from '../messages/utm.js';
import {
  clickUrl,
  createTrackingToken,
  isTrackableUrl,
  MAX_TRACKING_TOKEN_LENGTH,
  openUrl,
  type TrackedSend,
} from './tracking-token.js';

/** Open and click tracking of sends: where tracked links point and how they are signed. */
export interface LinkTracking {
  /** Public base URL of the HTTP API, which serves `/t/c/<token>` and `/t/o/<token>` (PUBLIC_URL). */
  baseUrl: string;
  /** Signs the tokens; the processes use `trackingSecret(UNSUBSCRIBE_SECRET)`. */
  secret: string;
  /** Rewrite links into tracked redirects (TRACK_LINKS). Default true. */
  links?: boolean;
  /** Add an open pixel to email HTML (TRACK_OPENS). Default true. */
  opens?: boolean;
  /**
   * Days an SMS short link (`/t/s/<id>`, see short-links.ts) leads on (SMS_SHORT_LINK_DAYS).
   * Default 365.
   */
  shortLinkDays?: number;
}

/** The channels whose opens can be seen: only email carries the open pixel. */
export const CHANNELS_WITH_OPENS: ReadonlySet<Channel> = new Set(['email']);

/** The channels whose clicks can be seen: all whose links are tracked, which a webhook's are not. */
export const CHANNELS_WITH_CLICKS: ReadonlySet<Channel> = new Set(['email', 'sms', 'push', 'in-app']);

/** What a send's recipient may do that its counters cannot see: open it (no pixel), click it (no tracked link). */
export type Untracked = 'opens' | 'clicks';

/**
 * What of a rendered (and, with `baseUrl`, tracked) message cannot be seen: its opens, when it
 * is an email without the open pixel (TRACK_OPENS=false, or no tracking at all); its clicks,
 * when it is on a channel whose links can be tracked and carries no tracked link (TRACK_LINKS=false,
 * no tracking, or no link to track). The report leaves such sends out of its open and click
 * rates: counted in, they would read as sends nobody opened or clicked.
 *
 * @example
 * untrackedIn(trackRendered(rendered, send, { baseUrl, secret, opens: false }, { brand }), baseUrl); // ['opens']
 */
export function untrackedIn(rendered: RenderedMessage, baseUrl: string | undefined): Untracked[] {
  const untracked: Untracked[] = [];
  const api = baseUrl?.replace(/\/+$/, '');
  const carries = (kind: 'c' | 'o' | 's', ...parts: string[]) =>
    api !== undefined && parts.some((part) => part.includes(`${api}/t/${kind}/`));
  switch (rendered.channel) {
    case 'email':
      if (!carries('o', rendered.html)) untracked.push('opens');
      if (!carries('c', rendered.html, rendered.text)) untracked.push('clicks');
      break;
    case 'sms':
      // Its tracked links are short links once stored (see shortenTrackedLinks).
      if (!carries('c', rendered.body) && !carries('s', rendered.body)) untracked.push('clicks');
      break;
    case 'push':
      if (!carries('c', rendered.title, rendered.body, rendered.url)) untracked.push('clicks');
      break;
    case 'in-app':
      if (!carries('c', rendered.title, rendered.body, rendered.cta.url)) untracked.push('clicks');
      break;
    case 'webhook':
      // Neither can be seen on any webhook: the report never rates them (CHANNELS_WITH_*).
      break;
  }
  return untracked;
}

/** Which links of a send are tracked. */
export interface TrackedLinks {
  /**
   * Whether a link leads where the brand chose (`renderer.isBrandLink`, see BrandHosts): only
   * such links are tracked. Any other (a URL from a customer's traits) stays as rendered, or
   * whoever typed it in would get a redirect to it signed on the brand's domain.
   */
  brand: (url: string) => boolean;
  /** Links left as they are: the unsubscribe URL. */
  keep?: readonly string[];
}

/**
 * Makes a rendered message tracked: every http(s) link the brand chose (already carrying its UTM
 * parameters) becomes `<baseUrl>/t/c/<token>`, a signed redirect back to exactly that URL, and
 * email HTML gets a 1×1 open pixel before `</body>`. Links to other hosts, links in `keep` (the
 * unsubscribe URL), links to the API itself, other schemes (`mailto:`, `tel:`) and a URL too long
 * to fit in a token (MAX_TRACKING_TOKEN_LENGTH) are left alone; so are webhook payloads,
 * which a program reads rather than a person clicking.
 *
 * @example
 * const brand = (url: string) => renderer.isBrandLink('welcome', url);
 * const tracked = trackRendered(rendered, send, { baseUrl: 'https://chorus.example.com', secret }, { brand, keep: [unsubscribeUrl] });
 */
export function trackRendered(
  rendered: RenderedMessage,
  send: TrackedSend,
  tracking: LinkTracking,
  links: TrackedLinks,
): RenderedMessage {
  const api = tracking.baseUrl.replace(/\/+$/, '');
  const keep = links.keep ?? [];
  // Links into the API itself (unsubscribe, an already tracked link) are never wrapped again.
  const own = (url: string) => url.startsWith(`${api}/t/`) || url.startsWith(`${api}/v1/`);
  const link = (url: string): string => {
    if (tracking.links === false || keep.includes(url) || own(url) || !isTrackableUrl(url)) return url;
    if (!links.brand(url)) return url;
    const token = createTrackingToken(tracking.secret, { kind: 'click', ...send, url });
    // A token the route would refuse as too long: the person reaches the page, uncounted.
    return token.length > MAX_TRACKING_TOKEN_LENGTH ? url : clickUrl(tracking.baseUrl, token);
  };
  const html = (value: string) => mapHtmlLinks(value, link);
  const text = (value: string) => mapTextLinks(value, link);
  switch (rendered.channel) {
    case 'email': {
      const tracked = { ...rendered, html: html(rendered.html), text: text(rendered.text) };
      if (tracking.opens === false) return tracked;
      const pixel = openUrl(
        tracking.baseUrl,
        createTrackingToken(tracking.secret, { kind: 'open', ...send }),
      );
      return { ...tracked, html: withPixel(tracked.html, pixel) };
    }
    case 'sms': {
      const body = text(rendered.body);
      // A tracked link is longer than the one it replaces, so the segments are counted again.
      return { ...rendered, body, ...smsSegments(body) };
    }
    case 'push':
      return { ...rendered, title: text(rendered.title), body: text(rendered.body), url: link(rendered.url) };
    case 'in-app':
      return {
        ...rendered,
        title: html(rendered.title),
        body: html(rendered.body),
        cta: { ...rendered.cta, url: link(rendered.cta.url) },
      };
    case 'webhook':
      return rendered;
  }
}

/** The pixel goes last in the body, so a client that stops loading images early still shows the mail. */
function withPixel(html: string, src: string): string {
  const img = `<img src="${src}" width="1" height="1" alt="" style="display:block;width:1px;height:1px;border:0">`;
  const end = html.toLowerCase().lastIndexOf('</body>');
  return end === -1 ? `${html}${img}` : `${html.slice(0, end)}${img}${html.slice(end)}`;
}
